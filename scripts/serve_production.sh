#!/usr/bin/env bash
# Runs CoC Desk for real, in one command (`make serve`): collects the static files, applies migrations, then runs
# gunicorn, the mail worker and the deadline clock side by side with debug off. Ctrl-C or TERM stops all three, and
# so does any one of them ending. Settings come from $COCDESK_CONFIG (see deploy/cocdesk.toml.example) and COCDESK_*
# variables; the web server listens on `bind` (COCDESK_BIND) with `web_workers` workers. On a server, the systemd
# units in deploy/ run the same three processes separately.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
gunicorn=$(dirname "$python")/gunicorn

export COCDESK_DEBUG=false
# Production never falls back to the development secret.
unset COCDESK_ALLOW_INSECURE_SECRET

"$python" - <<'PY'
"""Refuses to start, in plain words, without a secret key or a keyring; warns when links would point at bind."""
import os
import sys

sys.path.insert(0, "src")
os.environ["DJANGO_SETTINGS_MODULE"] = "cocdesk.settings"
try:
    import django

    django.setup()
except RuntimeError as error:
    sys.exit(f"Not starting: {error}")

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cocdesk.common.crypto import keyring

try:
    keyring()
except (ImproperlyConfigured, ValueError) as error:
    sys.exit(f"Not starting: {error} Keep the keyring outside the database and its backups.")
if not settings.CONFIG["base_url"]:
    print(
        f"Warning: base_url is not set, so mailed links point at {settings.BASE_URL}; set it to the public address.",
        file=sys.stderr,
    )
PY

# Django's deployment checklist: warnings are printed (a trial on loopback without HTTPS has some), errors stop here.
"$python" manage.py check --deploy
"$python" manage.py collectstatic --no-input --verbosity 0
"$python" manage.py migrate --no-input

children=()
stop() {
    trap - EXIT INT TERM
    if ((${#children[@]})); then
        kill -TERM "${children[@]}" 2>/dev/null || true
    fi
    wait || true
}
trap stop EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

"$python" manage.py db_worker --interval 2 &
children+=($!)
"$python" manage.py sweep_deadlines --every 60 &
children+=($!)
"$gunicorn" --config deploy/gunicorn.conf.py cocdesk.wsgi:application &
children+=($!)

status=0
wait -n || status=$?
echo "serve_production: a process ended (status $status); stopping the others." >&2
exit "$status"
