#!/usr/bin/env bash
# Serves the app with its background worker (mail, pages) and the deadline clock beside it; Ctrl-C stops all.
set -euo pipefail
python=${PYTHON:-.venv/bin/python}
bind=${1:-${COCDESK_BIND:-127.0.0.1:8000}}
# Unless the config sets base_url, the links the worker mails point at this address, where the server listens.
export COCDESK_BIND=$bind
"$python" manage.py db_worker --interval 2 &
worker=$!
"$python" manage.py sweep_deadlines --every 60 &
clock=$!
trap 'kill "$worker" "$clock" 2>/dev/null || true' EXIT INT TERM
"$python" manage.py runserver "$bind"
