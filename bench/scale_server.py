"""A real server for bench/scale.py: gunicorn with one sync worker on loopback, requests with http.client, and the
worker's memory read from /proc."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from run_benchmarks import ROOT

START_TIMEOUT = 90.0  # seconds for gunicorn to answer its first request
REQUEST_TIMEOUT = 120.0


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_path():
    beside = Path(sys.executable).parent / "gunicorn"
    found = str(beside) if beside.exists() else shutil.which("gunicorn")
    if not found:
        sys.exit("scale: gunicorn is not installed in this environment")
    return found


def new_session(membership):
    """A session row as after a password login and a verified second factor (tests/team.py log_in sets the same
    keys through the test client); returns its key."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = membership.user
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    session = SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "cocdesk.common.signed_in.PreparedModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    return session.session_key


class Server:
    """``gunicorn cocdesk.wsgi:application --workers 1`` with the production settings module (debug off) on the
    benchmark's scratch database, secret key and keyring."""

    # bench/load.py runs the production configuration instead (deploy/gunicorn.conf.py, several workers).
    gunicorn_options = ("--workers", "1")

    def __init__(self, scratch, session_key):
        from django.conf import settings

        self.scratch = Path(scratch)
        self.cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
        self.port = None
        self.process = None
        self.log = None

    def environment(self):
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "cocdesk.settings",
                "COCDESK_DEBUG": "0",
                # Set by configure() and tests/settings.py in this process; the server reads the very same.
                "COCDESK_DATABASE_URL": os.environ["COCDESK_DATABASE_URL"],
                "COCDESK_SECRET_KEY": os.environ["COCDESK_SECRET_KEY"],
                "COCDESK_KEYRING": os.environ["COCDESK_KEYRING"],
                "COCDESK_VAR_DIR": str(self.scratch),
                "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            }
        )
        env.pop("COCDESK_CONFIG", None)
        return env

    def start(self):
        self.port = free_port()
        self.log = open(self.scratch / "gunicorn.log", "ab")  # noqa: SIM115 (closed in stop)
        command = [
            gunicorn_path(),
            "cocdesk.wsgi:application",
            *self.gunicorn_options,
            "--bind",
            f"127.0.0.1:{self.port}",
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=ROOT, env=self.environment(), stdout=self.log, stderr=self.log, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            try:
                status, _body, _seconds = self.get("/desk/login/", cookie=False, timeout=5)
                if status == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT:.0f} s")
            time.sleep(0.2)

    def get(self, path, *, cookie=True, timeout=REQUEST_TIMEOUT):
        """(status, body, seconds): one GET on a new connection (the sync worker closes each one), timed from
        sending the request to the last byte of the body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Cookie": self.cookie} if cookie else {}
        try:
            start = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            seconds = time.perf_counter() - start
        finally:
            connection.close()
        return response.status, body, seconds

    def worker_pid(self):
        """The worker is the gunicorn master's child."""
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children")
        if children.exists():
            pids = [int(pid) for pid in children.read_text().split()]
        else:
            pids = []
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    if int(fields[1]) == master:
                        pids.append(int(entry.name))
        if len(pids) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {pids}")
        return pids[0]

    def memory(self):
        """(VmRSS, VmHWM) of the worker, in bytes."""
        values = {}
        for line in Path(f"/proc/{self.worker_pid()}/status").read_text().splitlines():
            name, _sep, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) * 1024
        return values["VmRSS"], values["VmHWM"]

    def log_tail(self, lines=40):
        """The end of the server's log (Django logs a 500's traceback there)."""
        path = self.scratch / "gunicorn.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            self.log.flush()
            print(f"scale: the server's log ends with:\n{self.log_tail()}", file=sys.stderr)
        self.stop()
