"""gunicorn's settings for CoC Desk: ``gunicorn --config deploy/gunicorn.conf.py cocdesk.wsgi:application``.

Where it listens and how many workers it runs come from CoC Desk's own configuration, so the config file (or
COCDESK_BIND and COCDESK_WEB_WORKERS) is the one place to change them.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cocdesk.settings import CONFIG  # noqa: E402

wsgi_app = "cocdesk.wsgi:application"
chdir = str(ROOT)
bind = [CONFIG["bind"]]
workers = CONFIG["web_workers"]
# Sync workers behind a buffering proxy: the proxy absorbs slow clients, each worker serves one request at a time.
worker_class = "sync"
timeout = 30
graceful_timeout = 20
# No access log: it would record reporters' addresses and user agents, which CoC Desk never stores.
accesslog = None
errorlog = "-"
# Managed by signals (HUP reloads, TERM stops), as systemd does; a control socket in the home directory would also
# be shared by every server the same user runs.
control_socket_disable = True
