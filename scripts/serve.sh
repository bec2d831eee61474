#!/usr/bin/env bash
# Serves the app with its background worker (mail and notifications) beside it; Ctrl-C stops both.
set -euo pipefail
python=${PYTHON:-.venv/bin/python}
"$python" manage.py db_worker --interval 2 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
"$python" manage.py runserver "${1:-127.0.0.1:8000}"
