"""The projection, run by the service itself: a background thread follows the log into the read
models, so `ledger serve` alone gives answers that catch up with every write.

One process per database projects at a time (the projector lock: a PostgreSQL advisory lock, or
an exclusive lock on a file next to the SQLite database); the others stand by and take over when
it goes away. The lock only saves work: two runners would still be correct, since the runner
commits each batch with its position and a runner whose position moved starts again.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from ledger.application import Ledger
from ledger.settings import Settings
from projections.runner import ProjectionRunner
from projections.store import ReadStore

log = logging.getLogger("api.projection")
LOCK_KEY = zlib.crc32(b"ccus-ledger:projection")  # the advisory lock's key, one per database
LOCK_HOLDER = "ledger projector"  # the lock connection's application_name, before the process ID
SQLITE_BATCH = 2_000  # SQLite has one writer: keep each batch's hold on it short
RETRY_SECONDS = 1.0  # between attempts to take the lock, and after a failure
IDLE_SECONDS = 0.05  # between batches once caught up: read-your-writes waits about this long


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
                log.exception("projection stopped; retrying in %s s", RETRY_SECONDS)
            self._stop.wait(RETRY_SECONDS)

    def _project(self) -> None:
        store = ReadStore(self.settings)
        batch: dict[str, Any] = {} if self.settings.is_postgres else {"batch_size": SQLITE_BATCH}
        try:
            self.projecting, self.last_error = True, None
            runner = ProjectionRunner(self.ledger, store, **batch)
            while not self._stop.is_set():
                # A batch short of full reached the log's head: wait for more to gather rather
                # than project a trickle of taps one or two at a time (a transaction each).
                if runner.run_once() < runner.batch_size:
                    self._stop.wait(IDLE_SECONDS)
        finally:
            self.projecting = False
            store.close()
