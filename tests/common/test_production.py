"""Running CoC Desk for real: the documented production command (scripts/serve_production.sh, which `make serve`
runs) started as an operator would, on a fresh database with a production config file; and links that follow the
address `make run HOST=... PORT=...` serves unless base_url is configured.

The production server is reached as the reverse proxy in deploy/ reaches it: on loopback, with the public host name
and ``X-Forwarded-Proto: https``. The team member's authenticator key is set when the member is created, so the
test computes the second factor's code as the member's phone would.
"""

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from django.conf import settings
from django_otp.oath import totp

from cocdesk.common.crypto import new_keyring_document
from cocdesk.settings import SQLITE_ENGINE
from tests.common.processes import database_url
from tests.factories import PASSWORD
from tests.formdata import form_fields
from tests.mail_server import free_port, mail_server
from tests.pages import parse

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PUBLIC_HOST = "desk.example.test"
PUBLIC_URL = f"https://{PUBLIC_HOST}"
AUTHENTICATOR_KEY = secrets.token_hex(20)
DESCRIPTION = "At the closing party someone kept filming me after I asked them to stop."
START_TIMEOUT = 120
MAIL_TIMEOUT = 60


def clean_environment(**extra):
    """The machine's environment without this test run's own settings (secret, keyring, database, var dir)."""
    # The browser fixture allows Django's ORM inside Playwright's event loop for this process only; a production
    # server must never inherit that.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("COCDESK_") and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env["PYTHON"] = sys.executable
    return {**env, **extra}


def manage(env, *args, check=True):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def fresh_database_url(tmp_path):
    """An empty database on this run's backend: a SQLite file, or a new database on the PostgreSQL server."""
    test_database = settings.DATABASES["default"]
    if test_database["ENGINE"] == SQLITE_ENGINE:
        yield f"sqlite:///{tmp_path / 'data' / 'cocdesk.sqlite3'}"
        return
    name = f"cocdesk_production_{secrets.token_hex(4)}"
    server = {
        "host": test_database["HOST"],
        "port": test_database["PORT"] or None,
        "user": test_database["USER"],
        "password": test_database["PASSWORD"] or None,
        "dbname": "postgres",
    }
    with psycopg.connect(**server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url({**test_database, "NAME": name})
    finally:
        with psycopg.connect(**server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_production_config(directory, *, database, port, smtp_port):
    """What deploy/cocdesk.toml.example describes, on loopback; the keyring lives apart from the data."""
    config = directory / "etc" / "cocdesk.toml"
    config.parent.mkdir()
    config.write_text(
        f'secret_key = "{secrets.token_urlsafe(50)}"\n'
        f'base_url = "{PUBLIC_URL}"\n'
        f'allowed_hosts = ["{PUBLIC_HOST}"]\n'
        f'bind = "127.0.0.1:{port}"\n'
        "web_workers = 2\n"
        f'database_url = "{database}"\n'
        f'keyring_file = "{directory / "etc" / "keyring.json"}"\n'
        'email_host = "127.0.0.1"\n'
        f"email_port = {smtp_port}\n"
        f'default_from_email = "CoC Desk <conduct@{PUBLIC_HOST}>"\n'
        "secure_cookies = true\n"
        "behind_proxy = true\n"
    )
    return config


class ThroughTheProxy:
    """HTTP to the server as the reverse proxy forwards a browser's HTTPS requests: the public host name and
    ``X-Forwarded-Proto: https``; cookies kept as the browser keeps them (secure ones included: it speaks HTTPS)."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, data=None, *, forwarded_proto="https"):
        headers = {"Host": PUBLIC_HOST}
        if forwarded_proto:
            headers["X-Forwarded-Proto"] = forwarded_proto
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = PUBLIC_URL
        connection = HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read().decode()
        finally:
            connection.close()
        for header in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.getheader("Location"), content

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def submit(self, path, **typed):
        """GETs the page at ``path`` and posts its form back with ``typed`` filled in, as a browser would."""
        status, _location, content = self.get(path)
        assert status == 200, (path, status, content[:2000])
        data = form_fields(content, "")
        data.update(typed)
        return self.request("POST", path, data)


class ProductionServer:
    """scripts/serve_production.sh in a session of its own, so that stopping it can be checked to leave nothing."""

    def __init__(self, env, log_path):
        self.env = env
        self.log_path = log_path
        self.process = None

    def start(self, client):
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                ["bash", "scripts/serve_production.sh"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the production command exited:\n{self.log()}"
            try:
                if client.get("/desk/login/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"the production command did not answer in {START_TIMEOUT}s:\n{self.log()}")

    def stop(self):
        """TERM to the script, as systemd or Ctrl-C would; returns its exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def leftovers(self):
        """Processes still in the server's process group, reaped ones excluded (none should be)."""
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill_everything(self):
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=30)

    def log(self):
        return self.log_path.read_text(errors="replace")


CREATE_TEAM = """
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.factories import OrganizationFactory, SpaceFactory, member

organization = OrganizationFactory(name="Harbour Python", slug="harbour")
SpaceFactory(organization=organization, name="Harbour Python 2026")
lead = member(organization, "lead", username="lee-lead")
TOTPDevice.objects.create(user=lead.user, name="Authenticator app", confirmed=True, key="{key}")
"""


def current_code():
    return f"{totp(bytes.fromhex(AUTHENTICATOR_KEY), step=30, t0=0, digits=6):06d}"


def text_of(content, element_id):
    return next(element.text() for element in parse(content).iter() if element.attrs.get("id") == element_id)


def wait_for_mail(handler, address):
    deadline = time.monotonic() + MAIL_TIMEOUT
    while time.monotonic() < deadline:
        if handler.to(address):
            return handler.to(address)
        time.sleep(0.25)
    raise AssertionError(f"no mail reached {address} in {MAIL_TIMEOUT}s")


def test_the_production_command_serves_reports_mail_and_the_desk(tmp_path, fresh_database_url):
    port = free_port()
    with mail_server() as smtp:
        config = write_production_config(tmp_path, database=fresh_database_url, port=port, smtp_port=smtp.port)
        env = clean_environment(COCDESK_CONFIG=str(config), COCDESK_VAR_DIR=str(tmp_path / "data"))
        manage(env, "create_keyring")
        assert (tmp_path / "etc" / "keyring.json").is_file()

        deploy_check = manage(env, "check", "--deploy", "--fail-level", "WARNING", check=False)
        assert deploy_check.returncode == 0, deploy_check.stdout + deploy_check.stderr
        assert "no issues" in deploy_check.stdout, deploy_check.stdout + deploy_check.stderr

        server = ProductionServer(env, tmp_path / "serve.log")
        reporter, lead = ThroughTheProxy(port), ThroughTheProxy(port)
        try:
            server.start(reporter)
            assert (tmp_path / "data" / "static" / "cocdesk").is_dir(), "collectstatic did not run"
            manage(env, "shell", "-c", CREATE_TEAM.format(key=AUTHENTICATOR_KEY))

            status, location, _content = lead.get("/desk/login/", forwarded_proto=None)
            assert (status, location) == (301, f"{PUBLIC_URL}/desk/login/"), "plain HTTP is not sent to HTTPS"

            status, _location, received = reporter.submit("/report/harbour/", description=DESCRIPTION)
            assert status == 200, received[:3000]
            assert "Your report was received" in received
            reference, receipt = text_of(received, "case-reference"), text_of(received, "receipt")
            assert reference and len(receipt) >= 20
            status, location, _content = reporter.submit("/follow-up/", receipt=receipt)
            assert (status, location) == (302, "/follow-up/case/")
            status, _location, follow_up = reporter.get(location)
            assert status == 200 and reference in follow_up

            alert = wait_for_mail(smtp, "lee-lead@example.org")[0]
            assert f"{PUBLIC_URL}/desk/cases/{reference}/" in alert.body
            assert DESCRIPTION not in alert.raw

            status, location, content = lead.submit("/desk/login/", username="lee-lead", password=PASSWORD)
            assert status == 302 and location.startswith("/desk/second-factor/"), (status, location, content[:2000])
            status, location, content = lead.submit(location, token=current_code())
            assert status == 302, (status, content[:3000])

            status, _location, queue = lead.get("/desk/")
            assert status == 200 and reference in queue
            status, _location, case_page = lead.get(f"/desk/cases/{reference}/")
            assert status == 200 and DESCRIPTION in case_page

            assert server.stop() == 128 + signal.SIGTERM
            assert not server.leftovers(), f"processes left after TERM:\n{server.log()}"
        finally:
            server.kill_everything()
    log = server.log()
    assert "Starting worker" in log and "Listening at" in log, log


def test_links_follow_the_served_address_unless_base_url_is_configured(tmp_path):
    """What `make run HOST=127.0.0.3 PORT=8123` does: the bind goes to every command, and links point there. (The
    commands use the test settings, the project's own with fast password hashing, for the demo team's passwords.)"""
    env = clean_environment(
        DJANGO_SETTINGS_MODULE="tests.settings",
        COCDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'cocdesk.sqlite3'}",
        COCDESK_VAR_DIR=str(tmp_path),
        COCDESK_CONFIG=str(tmp_path / "none.toml"),
        COCDESK_DEBUG="true",
        COCDESK_KEYRING=json.dumps(new_keyring_document()),
        COCDESK_BIND="127.0.0.3:8123",
    )
    manage(env, "migrate", "--no-input")
    printed = manage(env, "load_demo").stdout
    assert "CoC Desk: http://127.0.0.3:8123/ " in printed
    assert "Team desk: http://127.0.0.3:8123/desk/ " in printed
    queued = manage(
        env,
        "shell",
        "-c",
        "from django.conf import settings; from cocdesk.notify.models import Notification; "
        "print('allowed hosts:', *settings.ALLOWED_HOSTS); "
        "print(*Notification.objects.values_list('body', flat=True), sep='\\n')",
    ).stdout
    assert re.search(r"^allowed hosts:.* 127\.0\.0\.3$", queued, re.MULTILINE), queued
    links = re.findall(r"https?://[^\s/]+", queued)
    assert links and set(links) == {"http://127.0.0.3:8123"}, links

    (tmp_path / "none.toml").write_text('base_url = "https://conduct.example.test/"\n')
    printed = manage(env, "load_demo").stdout
    assert "CoC Desk: https://conduct.example.test/ " in printed
    assert "127.0.0.3" not in printed
