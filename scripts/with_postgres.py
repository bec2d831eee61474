#!/usr/bin/env python3
"""Run a command against a throwaway PostgreSQL cluster.

Usage: python scripts/with_postgres.py -- COMMAND [ARGS...]

The command sees COCDESK_DATABASE_URL (database ``cocdesk``) and COCDESK_TEST_PG_BINDIR.
The cluster and its directory are removed afterwards, whatever happens.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path


def find_bindir() -> Path:
    candidates = []
    if os.environ.get("COCDESK_TEST_PG_BINDIR"):
        candidates.append(os.environ["COCDESK_TEST_PG_BINDIR"])
    if shutil.which("pg_config"):
        # pg_config may belong to a client-only install, so its bindir is checked like the others.
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    versioned = [p for p in glob.glob("/usr/lib/postgresql/*/bin") if Path(p).parent.name.isdigit()]
    candidates += sorted(versioned, key=lambda p: int(Path(p).parent.name), reverse=True)
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).parent))
    for candidate in candidates:
        if candidate and all((Path(candidate) / tool).is_file() for tool in ("initdb", "pg_ctl", "createdb")):
            return Path(candidate)
    sys.exit("with_postgres: no PostgreSQL server binaries found; install Debian's postgresql package.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def main() -> int:
    command = sys.argv[1:]
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        sys.exit("usage: with_postgres.py -- COMMAND [ARGS...]")

    signal.signal(signal.SIGTERM, on_sigterm)
    bindir = find_bindir()
    tmp = Path(tempfile.mkdtemp(prefix="cocdesk-pg-"))
    data, log = tmp / "data", tmp / "server.log"
    # PostgreSQL refuses to run as root, so the cluster belongs to an unprivileged account.
    run_as: dict = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(tmp, nobody.pw_uid, nobody.pw_gid)
        run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    os.chmod(tmp, 0o700)

    def pg(tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # cwd is the temp dir because the unprivileged user may not be able to enter ours.
        return subprocess.run(
            [str(bindir / tool), *args], cwd=tmp, check=check, capture_output=True, text=True, **run_as
        )

    server_may_run = False
    try:
        port = free_port()
        initdb_args = ["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]
        pg("initdb", "-D", str(data), *initdb_args)
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c fsync=off -c full_page_writes=off"
        server_may_run = True
        start = pg("pg_ctl", "start", "-w", "-D", str(data), "-l", str(log), "-o", options, check=False)
        if start.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else start.stderr
            sys.exit(f"with_postgres: pg_ctl start failed:\n{tail}")
        pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "cocdesk")
        print(f"with_postgres: PostgreSQL up on 127.0.0.1:{port} ({bindir})", file=sys.stderr)

        env = dict(os.environ)
        env["COCDESK_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{port}/cocdesk"
        env["COCDESK_TEST_PG_BINDIR"] = str(bindir)
        returncode = subprocess.run(command, env=env, check=False).returncode
        # A command killed by a signal reports it negatively; shells use 128+N.
        return returncode if returncode >= 0 else 128 - returncode
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except subprocess.CalledProcessError as exc:
        sys.exit(f"with_postgres: {Path(exc.cmd[0]).name} failed:\n{exc.stderr or exc.stdout}")
    finally:
        # A second Ctrl-C or SIGTERM must not leave a running server behind.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if server_may_run:
            pg("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(data), check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
