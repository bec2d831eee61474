"""Running CoC Desk's own processes (gunicorn, management commands) against the test database.

The processes read their settings from the environment, as in production; the test database must hold committed
data for them to see it (use the ``transactional_db`` fixture).
"""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from cocdesk.settings import SQLITE_ENGINE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def database_url(settings_dict):
    if settings_dict["ENGINE"] == SQLITE_ENGINE:
        return f"sqlite:///{settings_dict['NAME']}"
    credentials = quote(settings_dict["USER"], safe="")
    if settings_dict["PASSWORD"]:
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{credentials}@{settings_dict['HOST']}{port}/{quote(settings_dict['NAME'], safe='')}"


def environment():
    """The test run's own secret key, keyring and var directory (set by tests/settings.py), on the test database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cocdesk.settings",
        "COCDESK_DATABASE_URL": database_url(connection.settings_dict),
        "PYTHONPATH": str(PROJECT_ROOT),
    }


class Gunicorn:
    """Sync workers serving a WSGI application on a port the kernel picks, on the test database."""

    START_TIMEOUT = 60

    def __init__(self, log_path, *, app="cocdesk.wsgi:application", workers=2):
        self.log_path = log_path
        self.app = app
        self.workers = workers
        self.process = None
        self.port = None

    def start(self):
        command = [
            str(GUNICORN),
            self.app,
            f"--workers={self.workers}",
            "--worker-class=sync",
            "--bind=127.0.0.1:0",
            "--timeout=30",
            "--graceful-timeout=5",
            f"--chdir={PROJECT_ROOT}",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment(), stdout=log, stderr=log)
        deadline = time.monotonic() + self.START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log()}"
            listening = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log())
            if listening and len(re.findall(r"Booting worker with pid", self.log())) >= self.workers:
                self.port = int(listening.group(1))
                return
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not start {self.workers} workers in {self.START_TIMEOUT}s:\n{self.log()}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)
