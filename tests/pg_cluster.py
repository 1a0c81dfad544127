"""A throwaway PostgreSQL server for the tests: Debian's `postgresql` package, a new cluster in
a temporary folder, listening on 127.0.0.1 on a free port, removed at the end.

PostgreSQL refuses to run as root: when the tests run as root (CI containers), initdb and the
server run as the `postgres` user the Debian package creates (`runuser`). The cluster trusts
local connections (a test server on the loopback only) and runs with fsync off: a crash of
the test machine loses nothing anyone needs.

`python -m tests.pg_cluster` starts one and prints its URL until Ctrl+C (for trying team mode
by hand).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SUPERUSER = "postgres"


class ClusterUnavailable(RuntimeError):
    """PostgreSQL is not installed (or cannot start) here; the message says what to install."""


def bin_dir() -> Path:
    """The server's programs: Debian keeps them under /usr/lib/postgresql/<major>/bin."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if
                   Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ClusterUnavailable("PostgreSQL's server is not installed: install Debian's"
                             " `postgresql` package (.ci/run does).")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One running server; `create_database()` gives each test a database of its own."""

    def __init__(self) -> None:
        self.bin = bin_dir()
        self._as_postgres = os.geteuid() == 0
        # As root the server runs as `postgres`, which must reach its folder: under /tmp, not
        # under a TMPDIR that may sit in root's home.
        base = "/tmp" if self._as_postgres and os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="restyle-pg-", dir=base))
        self.data = self.root / "data"
        self.port = _free_port()
        self._counter = itertools.count(1)
        self._started = False

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", SUPERUSER, "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> PgCluster:
        os.chmod(self.root, 0o755)
        if self._as_postgres:
            shutil.chown(self.root, SUPERUSER, SUPERUSER)
        try:
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                      "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                      str(self.root / "server.log"), "-w", "-t", "60", "-o",
                      f"-c listen_addresses=127.0.0.1 -c port={self.port}"
                      f" -c unix_socket_directories={self.root} -c fsync=off"
                      " -c synchronous_commit=off -c full_page_writes=off"
                      " -c max_connections=300", "start")
        except subprocess.CalledProcessError as exc:
            log = (self.root / "server.log")
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ClusterUnavailable(
                f"The test PostgreSQL server did not start: {exc.stderr or exc.stdout}"
                f" {detail}") from exc
        self._started = True
        return self

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, prefix: str = "t", *, icu_locale: str | None = None) -> str:
        """A new, empty database; its URL. `icu_locale` ("en-US"): text sorts by that
        language's rules in it, as on a server set up in that locale (the cluster's own is C);
        where PostgreSQL cannot (before 15, or built without ICU) it is a plain database."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            if icu_locale:
                try:
                    conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0"
                                 f" LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}'"
                                 " LOCALE 'C.UTF-8'")
                    return self.url(name)
                except psycopg.Error:
                    pass
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def password_user(self, name: str, password: str) -> str:
        """A role that must give its password (the cluster trusts everyone else): pg_hba.conf
        gets a line for it ahead of the trust lines. The URL of a database it owns, without
        the password."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'")
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
            hba = self.data / "pg_hba.conf"
            rules = hba.read_text()
            hba.write_text(f"host all {name} 127.0.0.1/32 scram-sha-256\n{rules}")
            conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.3)  # the postmaster reads the file again on SIGHUP
        return f"postgresql://{name}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self._started:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                      "-w", "stop", check=False)
            self._started = False
        with contextlib.suppress(OSError):
            shutil.rmtree(self.root)

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    with PgCluster() as cluster:
        print(cluster.create_database("restyle"), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
