"""A real IMAP server on loopback for mail-intake tests: Debian's Dovecot with a throwaway configuration.

Everything lives in a temporary directory (configuration, passwd file, Maildir, sockets, logs) and the server
is stopped and the directory removed afterwards. Plain-text login without TLS, on 127.0.0.1 only.
Install it with `make system-deps` (apt-get install dovecot-imapd).
"""

import contextlib
import grp
import imaplib
import io
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.core.management import call_command

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "conduct"
PASSWORD = "imap-test-password"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as():
    """Dovecot's processes run as this (user, group, uid, gid): ourselves, or `nobody` when we are root."""
    if os.geteuid() == 0:
        account = pwd.getpwnam("nobody")
        return account.pw_name, grp.getgrgid(account.pw_gid).gr_name, account.pw_uid, account.pw_gid
    account = pwd.getpwuid(os.geteuid())
    return account.pw_name, grp.getgrgid(os.getegid()).gr_name, os.geteuid(), os.getegid()


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    root: Path

    def connect(self):
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def deliver(self, raw, folder="INBOX"):
        """Puts one mail in the mailbox, unseen, as a mail server's delivery would."""
        imap = self.connect()
        try:
            status, _ = imap.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
            assert status == "OK", "IMAP APPEND failed"
        finally:
            imap.logout()

    def flags(self, folder="INBOX"):
        """The flags of every mail in the folder, in order."""
        imap = self.connect()
        try:
            imap.select(folder, readonly=True)
            _, data = imap.fetch("1:*", "(FLAGS)")
            return [re.search(rb"FLAGS \(([^)]*)\)", line).group(1).decode() for line in data if line]
        finally:
            imap.logout()

    def mark_all_unseen(self, folder="INBOX"):
        imap = self.connect()
        try:
            imap.select(folder)
            imap.store("1:*", "-FLAGS", "(\\Seen)")
        finally:
            imap.logout()

    def empty(self, folder="INBOX"):
        imap = self.connect()
        try:
            _, data = imap.select(folder)
            if int(data[0] or 0):
                imap.store("1:*", "+FLAGS", "(\\Deleted)")
                imap.expunge()
        finally:
            imap.logout()


@contextmanager
def running_imap_server():
    """Starts Dovecot on a free loopback port and yields an ImapServer; stops it and removes its files after."""
    if not os.path.exists(DOVECOT):
        raise RuntimeError("Dovecot not found: run `make system-deps` (apt-get install dovecot-imapd).")
    root = Path(tempfile.mkdtemp(prefix="cocdesk-imap-"))
    user, group, uid, gid = _run_as()
    port = free_port()
    for name in ("run", "state", "mail", "home"):
        (root / name).mkdir()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, user=user, group=group, uid=uid, gid=gid, port=port))
    if os.geteuid() == 0:
        os.chmod(root, 0o711)  # noqa: S103 - Dovecot's unprivileged processes traverse to their Maildir
        for name in ("mail", "home"):
            os.chown(root / name, uid, gid)
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        _wait_for_port(port, process, root)
        yield ImapServer("127.0.0.1", port, USER, PASSWORD, root)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stderr.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_port(port, process, root, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            raise RuntimeError(f"Dovecot stopped at start: {process.stderr.read().decode()}\n{log}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("Dovecot did not start listening in time")


PASSWORD_ENV = "COCDESK_TEST_IMAP_PASSWORD"


def fetch_into(imap, organization, monkeypatch):
    """``manage.py fetch_mail`` for the organization against this server, as the deployment runs it; returns its
    output."""
    monkeypatch.setenv(PASSWORD_ENV, imap.password)
    out = io.StringIO()
    call_command(
        "fetch_mail",
        org=organization.slug,
        ssl=False,
        host=imap.host,
        port=imap.port,
        user=imap.user,
        password_env=PASSWORD_ENV,
        stdout=out,
    )
    return out.getvalue()
