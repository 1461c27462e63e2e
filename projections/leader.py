"""The projection's leader: a background thread that follows the log into the read models, started
by the service (`ledger serve`), so that the service alone gives answers that catch up with every
write.

Its last failure is kept in the database too (`projection_failures`) until a batch commits
again, so that every API process reports it, not only the one projecting (with several workers
the projection runs in the process that supervises them).

One process per database projects at a time (the projector lock: a PostgreSQL advisory lock, or
an exclusive lock on a file next to the SQLite database); the others stand by and take over when
it goes away. The lock only saves work: two runners would still be correct, since the runner
commits each batch with its position and a runner whose position moved starts again.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from ledger import clock
from ledger.application import Ledger
from ledger.settings import Settings
from projections.follower import FailureLog, LogFollower
from projections.projector import LedgerProjection
from projections.store import ReadStore, as_datetime

log = logging.getLogger("projections.leader")
LOCK_KEY = zlib.crc32(b"ccus-ledger:projection")  # the advisory lock's key, one per database
LOCK_HOLDER = "ledger projector"  # the lock connection's application_name, before the process ID
SQLITE_BATCH = 2_000  # SQLite has one writer: keep each batch's hold on it short
RETRY_SECONDS = 1.0  # between attempts to take the lock, and after a failure
IDLE_SECONDS = 0.05  # between batches once caught up: read-your-writes waits about this long
FAILURE_CHARS = 2_000  # of a failure's message kept in projection_failures


@contextmanager
def projector_lock(settings: Settings) -> Iterator[bool]:
    """Yields whether this process holds the database's projector lock (held until exit)."""
    if settings.is_postgres:
        # Named after this process, so that pg_stat_activity says which process projects.
        with psycopg.connect(
            settings.database_url, autocommit=True, application_name=f"{LOCK_HOLDER} {os.getpid()}"
        ) as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()
            yield bool(row and row[0])
        return
    with open(f"{settings.sqlite_path}.projector.lock", "a+b") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


class ProjectionService:
    """Start with `start()`, stop with `stop()`; `projecting` says whether this process leads."""

    def __init__(self, ledger: Ledger, settings: Settings) -> None:
        self.ledger = ledger
        self.settings = settings
        self.projecting = False
        self.last_error: str | None = None
        self.failures = FailureLog(log)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="projection", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with projector_lock(self.settings) as held:
                    if held:
                        self._project()
            except Exception as error:  # the database went away: report, wait, try again
                self.last_error = f"{type(error).__name__}: {error}"
                self.failures.failed(error)  # once, not a traceback a second
                record_failure(self.settings, self.last_error)
            self._stop.wait(RETRY_SECONDS)

    def _project(self) -> None:
        store = ReadStore(self.settings)
        batch: dict[str, Any] = {} if self.settings.is_postgres else {"batch_size": SQLITE_BATCH}
        try:
            self.projecting = True
            runner = LogFollower(self.ledger, store, **batch)
            clear_failure_after_batch = True  # one recorded before this run may be there
            while not self._stop.is_set():
                projected = runner.run_once()
                if clear_failure_after_batch:
                    clear_failure(store)
                    self.last_error, clear_failure_after_batch = None, False
                    self.failures.recovered()
                # A batch short of full reached the log's head: wait for more to gather rather
                # than project a trickle of taps one or two at a time (a transaction each).
                if projected < runner.batch_size:
                    self._stop.wait(IDLE_SECONDS)
        finally:
            self.projecting = False
            store.close()


@dataclass(frozen=True)
class ProjectionFailure:
    process: str  # host:pid
    error: str  # "ExceptionType: message", as `ProjectionService.last_error`
    failed_at: datetime

    @property
    def kind(self) -> str:
        return self.error.split(":", 1)[0]


def record_failure(settings: Settings, error: str) -> None:
    """Keep the projection's failure where every process reads it; when the database itself is
    what failed, the log (and this process's `last_error`) are all there is."""
    store = ReadStore(settings)
    try:
        with store.transaction() as tx:
            tx.execute("DELETE FROM projection_failures WHERE name = %s", [LedgerProjection.name])
            tx.execute("INSERT INTO projection_failures (name, process, error, failed_at) "
                       "VALUES (%s, %s, %s, %s)",
                       [LedgerProjection.name, f"{socket.gethostname()}:{os.getpid()}",
                        error[:FAILURE_CHARS], clock.now()])
    except Exception as error:  # the database is down: the projection's failure is logged
        log.debug("could not record the projection's failure: %s", error)
    finally:
        store.close()


def clear_failure(store: ReadStore) -> None:
    with store.transaction() as tx:
        tx.execute("DELETE FROM projection_failures WHERE name = %s", [LedgerProjection.name])


def last_failure(store: ReadStore) -> ProjectionFailure | None:
    """The projection's failure since its last committed batch, by whichever process."""
    with store.read() as tx:
        rows = tx.execute("SELECT process, error, failed_at FROM projection_failures "
                          "WHERE name = %s", [LedgerProjection.name])
    if not rows:
        return None
    process, error, failed_at = rows[0]
    return ProjectionFailure(process, error, as_datetime(failed_at))  # type: ignore[arg-type]
