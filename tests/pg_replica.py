"""A PostgreSQL primary and a streaming hot standby of it, for the read-replica tests and bench.

Both clusters are made from the installed PostgreSQL binaries (`pg_config --bindir`), in a
temporary folder owned by the postgres OS user and run as that user (`runuser -u postgres --`
when this process is root: initdb refuses root): initdb, the primary started with
wal_level=replica, `pg_basebackup -R` (the standby's recovery settings written for it), the
standby started on another port. `replica_pair()` stops both and removes the folder at the end.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.pg import free_port

TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
OS_USER = "postgres"


class ReplicaUnavailable(RuntimeError):
    """The PostgreSQL binaries or the postgres OS user are missing."""


def bindir() -> Path:
    try:
        found = subprocess.run(["pg_config", "--bindir"], check=True, capture_output=True,
                               text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as error:
        raise ReplicaUnavailable(f"pg_config --bindir failed: {error}") from None
    folder = Path(found)
    missing = [tool for tool in TOOLS if not (folder / tool).is_file()]
    if missing:
        # pg_config may come from the client package alone; the server's are versioned here.
        servers = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if servers and all((servers[-1].parent / tool).is_file() for tool in TOOLS):
            return servers[-1].parent
        raise ReplicaUnavailable(f"no {', '.join(missing)} in {folder}")
    return folder


def run_as() -> list[str]:
    """The command prefix that runs a server tool as the postgres OS user."""
    if os.geteuid() != 0:
        return []  # a non-root user runs its own clusters
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        raise ReplicaUnavailable(f"there is no {OS_USER!r} OS user to run PostgreSQL as "
                                 "(initdb refuses root)") from None
    return ["runuser", "-u", OS_USER, "--"]


@dataclass
class ReplicaPair:
    """The two running clusters: their ports, and the standby's controls."""

    folder: Path
    tools: Path
    prefix: list[str]
    primary_port: int
    standby_port: int

    def url(self, port: int, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{dbname}"

    def primary_url(self, dbname: str = "postgres") -> str:
        return self.url(self.primary_port, dbname)

    def standby_url(self, dbname: str = "postgres") -> str:
        return self.url(self.standby_port, dbname)

    def pg_ctl(self, data: str, *arguments: str) -> None:
        done = subprocess.run([*self.prefix, str(self.tools / "pg_ctl"), "-D",
                               str(self.folder / data), *arguments], capture_output=True, text=True)
        if done.returncode:
            log = self.folder / f"{data}.log"
            raise RuntimeError(f"pg_ctl {' '.join(arguments)} ({data}) failed: {done.stderr}\n"
                               f"{log.read_text()[-3000:] if log.exists() else ''}")

    def start(self, data: str, port: int, *settings: str) -> None:
        options = " ".join([f"-p {port}", f"-k {self.folder}", "-c listen_addresses=127.0.0.1",
                            *(f"-c {setting}" for setting in settings)])
        self.pg_ctl(data, "-w", "-t", "120", "-o", options, "-l", str(self.folder / f"{data}.log"),
                    "start")

    def start_standby(self) -> None:
        self.start("standby", self.standby_port, "hot_standby=on")

    def stop_standby(self, mode: str = "immediate") -> None:
        """`immediate`: the standby killed, no shutdown checkpoint, its clients cut off."""
        self.pg_ctl("standby", "-m", mode, "stop")

    def stop_primary(self, mode: str = "immediate") -> None:
        self.pg_ctl("primary", "-m", mode, "stop")

    def start_primary(self) -> None:
        self.start("primary", self.primary_port, "wal_level=replica", "max_wal_senders=4")

    def on_standby(self, statement: str, dbname: str = "postgres") -> object:
        with psycopg.connect(self.standby_url(dbname), autocommit=True) as conn:
            row = conn.execute(statement).fetchone()
        return row[0] if row else None

    def pause_replay(self) -> None:
        """The standby stops applying WAL (it still receives it): a lag as long as the test
        wants, not one that depends on timing."""
        self.on_standby("SELECT pg_wal_replay_pause()")
        while self.on_standby("SELECT pg_get_wal_replay_pause_state()") != "paused":
            time.sleep(0.01)

    def resume_replay(self) -> None:
        self.on_standby("SELECT pg_wal_replay_resume()")

    def wait_caught_up(self, tries: int = 6000) -> None:
        """Until the standby has replayed all the primary had written when this was called."""
        with psycopg.connect(self.primary_url(), autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
        assert row is not None
        target = int(row[0])
        for _ in range(tries):
            replayed = self.on_standby("SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn")
            if replayed is not None and int(str(replayed)) >= target:
                return
            time.sleep(0.01)
        raise RuntimeError("the standby did not catch up with the primary")

    def stop(self) -> None:
        for data in ("standby", "primary"):
            if (self.folder / data / "postmaster.pid").exists():
                subprocess.run([*self.prefix, str(self.tools / "pg_ctl"), "-D",
                                str(self.folder / data), "-m", "immediate", "stop"],
                               capture_output=True)


@contextmanager
def replica_pair(*primary_settings: str) -> Iterator[ReplicaPair]:
    """A primary and its streaming hot standby on two free ports of 127.0.0.1 (trust auth,
    user postgres); both stopped and their folder removed afterwards. ReplicaUnavailable if
    the binaries or the postgres user are missing."""
    tools, prefix = bindir(), run_as()
    folder = Path(tempfile.mkdtemp(prefix="ledger-replica-"))
    if prefix:
        entry = pwd.getpwnam(OS_USER)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    pair = ReplicaPair(folder, tools, prefix, free_port(), free_port())
    try:
        subprocess.run([*prefix, str(tools / "initdb"), "-D", str(folder / "primary"), "-A",
                        "trust", "-U", "postgres", "--no-sync"], check=True, capture_output=True)
        pair.start("primary", pair.primary_port, "wal_level=replica", "max_wal_senders=4",
                   *primary_settings)
        subprocess.run([*prefix, str(tools / "pg_basebackup"), "-h", "127.0.0.1", "-p",
                        str(pair.primary_port), "-U", "postgres", "-D", str(folder / "standby"),
                        "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"],
                       check=True, capture_output=True)
        pair.start_standby()
        yield pair
    except subprocess.CalledProcessError as failed:
        raise RuntimeError(f"{failed.cmd[len(prefix)]} failed: {failed.stderr!r}") from None
    finally:
        pair.stop()
        shutil.rmtree(folder, ignore_errors=True)
