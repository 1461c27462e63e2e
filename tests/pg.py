"""PostgreSQL for tests: the server from LEDGER_TEST_POSTGRES_URL, else a throwaway cluster.

In CI (CI=true) an unreachable server is an error, never a skip. Elsewhere, with no server, a
throwaway cluster is started from the installed PostgreSQL binaries; without those the tests are
skipped with a message saying so.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_server_url: str | None = None


class PostgresUnavailable(RuntimeError):
    pass


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _throwaway_cluster() -> str:
    initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or (
        [shutil.which("initdb")] if shutil.which("initdb") else []
    )
    if not initdbs:
        raise PostgresUnavailable("no PostgreSQL server reachable and no initdb installed")
    bindir = os.path.dirname(initdbs[-1])
    datadir = tempfile.mkdtemp(prefix="ledger-pg-")
    port = free_port()
    user = ["-U", "postgres"]
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        os.chown(datadir, *_nobody())
        run_as = ["runuser", "-u", "nobody", "--"]
    subprocess.run(
        [*run_as, f"{bindir}/initdb", "-D", datadir, "-A", "trust", *user],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *run_as,
            f"{bindir}/pg_ctl",
            "-D",
            datadir,
            "-w",
            "-o",
            f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1",
            "-l",
            f"{datadir}/log",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    atexit.register(
        lambda: subprocess.run(
            [*run_as, f"{bindir}/pg_ctl", "-D", datadir, "-m", "immediate", "stop"],
            capture_output=True,
        )
    )
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def _nobody() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def server_url() -> str:
    """The maintenance URL of a PostgreSQL server tests may create databases on."""
    global _server_url
    if _server_url is None:
        url = os.environ.get("LEDGER_TEST_POSTGRES_URL", DEFAULT_URL)
        if _reachable(url):
            _server_url = url
        elif in_ci():
            raise PostgresUnavailable(f"CI requires PostgreSQL at {url}, and it is unreachable")
        else:
            _server_url = _throwaway_cluster()
    return _server_url


def with_dbname(url: str, dbname: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{dbname}"))


_migrated_template: str | None = None


def _template() -> str:
    """A database migrated once per test process, to clone migrated databases from.

    Running every migration costs ~0.5 s a database and a clone ~0.1 s; the result is the same
    schema, since the template is migrated by the same code in the same run."""
    global _migrated_template
    if _migrated_template is None:
        from ledger.settings import Settings
        from ledger.storage.migrate import migrate

        admin_url = server_url()
        name = f"ledger_template_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop, admin_url, name)
        migrate(Settings(database_url=with_dbname(admin_url, name)))
        _migrated_template = name
    return _migrated_template


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(prefix: str = "ledger_test", migrated: bool = False) -> Iterator[str]:
    """Create a database, yield its URL, drop it afterwards. It is empty, or with
    ``migrated`` a clone of a database every migration was applied to."""
    admin_url = server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{_template()}"' if migrated else ""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{template}')
    try:
        yield with_dbname(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
