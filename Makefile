# CoC Desk: `make run` starts a local demo, `make test` runs the whole suite (SQLite, then PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres lint format system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed-app

var/cocdesk.toml:
	mkdir -p var
	$(BIN)/python scripts/write_dev_config.py $@

run: $(VENV)/.installed-app var/cocdesk.toml
	$(BIN)/python manage.py create_keyring
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo
	@echo ""
	@echo "Serving on http://$(HOST):$(PORT)/  (team desk: http://$(HOST):$(PORT)/desk/) with the mail worker. Stop with Ctrl-C."
	PYTHON=$(BIN)/python bash scripts/serve.sh $(HOST):$(PORT)

system-deps:
	bash scripts/system-deps.sh

test: system-deps $(VENV)/.installed-test lint test-sqlite test-postgres

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	COCDESK_SECRET_KEY=lint $(BIN)/python manage.py makemigrations --check --dry-run

test-sqlite: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-test
	$(BIN)/python scripts/with_postgres.py -- $(BIN)/python -m pytest $(PYTEST_ARGS)

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

.PHONY: bench
bench: $(VENV)/.installed-test
	$(BIN)/python bench/run_benchmarks.py --write

# The desk at 1k, 10k and 100k cases through gunicorn, on SQLite (PostgreSQL: see docs/benchmarks.md).
.PHONY: bench-scale
bench-scale: $(VENV)/.installed-test
	$(BIN)/python bench/scale.py --write
