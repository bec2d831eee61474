# CoC Desk: `make run` starts a local demo, `make serve` runs it for real (docs/operations.md), `make test` runs the
# whole suite (SQLite, then PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
TEST_WORKERS ?= 2
# HOST:PORT as servers take it, an IPv6 address in brackets.
BIND_ADDRESS = $(if $(findstring :,$(HOST)),[$(HOST)],$(HOST)):$(PORT)

.PHONY: run serve test test-sqlite test-postgres lint format system-deps clean

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

# Unless the config sets base_url, the links it prints and mails point at HOST:PORT, where it serves.
run: export COCDESK_BIND = $(BIND_ADDRESS)
run: $(VENV)/.installed-app var/cocdesk.toml
	$(BIN)/python manage.py create_keyring
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo
	@echo ""
	@echo "Serving on $(BIND_ADDRESS) with the mail worker and the deadline clock. Stop with Ctrl-C."
	PYTHON=$(BIN)/python bash scripts/serve.sh $(BIND_ADDRESS)

# Production settings (COCDESK_CONFIG; deploy/cocdesk.toml.example): static files, migrations, then gunicorn, the
# mail worker and the deadline clock (scripts/serve_production.sh). HOST or PORT given here override the config's bind.
serve: $(VENV)/.installed-app
	$(if $(filter command line,$(origin HOST) $(origin PORT)),COCDESK_BIND=$(BIND_ADDRESS)) PYTHON=$(BIN)/python bash scripts/serve_production.sh

system-deps:
	bash scripts/system-deps.sh

test: system-deps $(VENV)/.installed-test lint test-sqlite test-postgres

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	COCDESK_SECRET_KEY=lint $(BIN)/python manage.py makemigrations --check --dry-run

# SQLite runs everything, browser journeys included, on two workers; PostgreSQL runs everything but the browser
# journeys (they drive the same views the other tests reach) on two workers as well, each with its own database.
test-sqlite: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-test
	$(BIN)/python scripts/with_postgres.py -- $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS)

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

# The guides' screenshots (docs/images/), taken by the browser journeys that play the guides' steps.
.PHONY: docs-screenshots
docs-screenshots: $(VENV)/.installed-test
	COCDESK_DOCS_SCREENSHOTS=docs/images $(BIN)/python -m pytest -q tests/browser/test_first_ten_minutes.py tests/browser/test_guide_screenshots.py

# Reporters sending reports at once (8, 32, 128; five runs each) to gunicorn, on SQLite (PostgreSQL: see docs/benchmarks.md).
.PHONY: bench-load
bench-load: $(VENV)/.installed-test
	$(BIN)/python bench/load.py --repeats 5 --write

# Matching a new report's identifiers against 10k, 100k and 1M stored ones, on SQLite (PostgreSQL: see docs/benchmarks.md).
.PHONY: bench-identifiers
bench-identifiers: $(VENV)/.installed-test
	$(BIN)/python bench/identifiers.py --write
