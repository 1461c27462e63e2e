"""Reading the read models: a pool of read-model connections, read-your-writes, and the read
transaction a query route runs in.

A query route is async and names its reads in its signature (`Reads`, from `api.deps`); its
blocking work is one function of a `Reading` (the acting party, one read transaction, the
position the read models had reached), run in one trip to a worker thread. Before the
transaction opens, the route's `min_position` is waited for (bounded): a write answers its log
position, and a query given that position shows the write or answers 503 saying the projection
is behind.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import psycopg
from fastapi import Response

from api.problems import ProjectionBehind, Unavailable
from ledger import clock
from ledger.actors import Actor
from ledger.application import Ledger
from ledger.errors import InvalidValue
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.projector import LedgerProjection
from projections.quarantine import QUARANTINED_ABOUT
from projections.store import ReadStore, Tx

T = TypeVar("T")
INCOMPLETE_HEADER = "Ledger-Incomplete"
QUARANTINE_CHECK_SECONDS = 1.0  # how stale the quarantined events a read is checked against
BROKEN_CONNECTION = (psycopg.OperationalError, psycopg.InterfaceError, sqlite3.OperationalError)


class ReadPool:
    """Read-model connections for queries, one `ReadStore` each, lent to one request at a time.

    At most `size` are open; a request waits `wait_seconds` for one, then is answered 503. A
    connection that failed is closed and opened afresh on its next use.
    """

    def __init__(self, settings: Settings, size: int, wait_seconds: float) -> None:
        self.settings = settings
        self.size = size
        self.wait_seconds = wait_seconds
        self._slots = threading.BoundedSemaphore(size)
        self._idle: queue.LifoQueue[ReadStore] = queue.LifoQueue()
        self._threads = ThreadPoolExecutor(size, thread_name_prefix="read")
        self._turns: asyncio.Semaphore | None = None  # made in the event loop, on first use
        self._quarantine: list[tuple[int, str | None, str | None]] = []
        self._quarantine_checked = -QUARANTINE_CHECK_SECONDS

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` in one of the pool's `size` reading threads, once it has a turn.

        At most `size` of this process's queries read at once; the others wait here, in the
        event loop (503 after `wait_seconds`), not in threads that would contend for the
        interpreter with those reading. asyncio's own executor and semaphore rather than
        anyio's thread portal, which took about a fifth of the event loop's time per request
        with 50 clients asking back to back (py-spy)."""
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.size)
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._turns.acquire()
        except TimeoutError:
            raise Unavailable("every read-model connection is busy") from None
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._threads, contextvars.copy_context().run,
                                              work)
        finally:
            self._turns.release()

    @contextmanager
    def store(self) -> Iterator[ReadStore]:
        if not self._slots.acquire(timeout=self.wait_seconds):
            raise Unavailable("every read-model connection is busy")
        try:
            try:
                store = self._idle.get_nowait()
            except queue.Empty:
                store = ReadStore(self.settings, read_only=True)
            try:
                yield store
            except BROKEN_CONNECTION:
                store.close()  # reconnects on its next use
                raise
            finally:
                self._idle.put(store)
        finally:
            self._slots.release()

    def quarantined_about(self, tx: Tx, technician_id: str | None, site_id: str | None
                          ) -> list[int]:
        """Positions of quarantined events about a worker or site, as of at most a second ago:
        the list is read once a second, not by every query (it is almost always empty)."""
        if time.monotonic() >= self._quarantine_checked + QUARANTINE_CHECK_SECONDS:
            self._quarantine = [(int(p), t, s) for p, t, s in tx.execute(QUARANTINED_ABOUT)]
            self._quarantine_checked = time.monotonic()
        return [position for position, technician, site in self._quarantine
                if (technician_id is not None and technician == technician_id)
                or (site_id is not None and site == site_id)]

    def close(self) -> None:
        self._threads.shutdown()
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def projection_position(tx: Tx) -> int:
    """How far the read models have come, in the snapshot `tx` reads."""
    rows = tx.execute("SELECT position FROM {projection_positions} WHERE name = %s",
                      [LedgerProjection.name])
    return int(rows[0][0]) if rows else 0


def wait_for_position(ledger: Ledger, store: ReadStore, wanted: int, timeout: float) -> None:
    """Read-your-writes: return once the read models have reached `wanted` (a log position a
    write answered); ProjectionBehind after `timeout` seconds. A position past the log's head
    was answered by no write: 422 at once rather than a wait that cannot end well."""
    runner = LogFollower(ledger, store)
    if runner.position() >= wanted:
        return
    head = ledger.log_position()
    if wanted > head:
        raise InvalidValue("min_position", "min_position.range",
                           f"{wanted} is past the log's head ({head})")
    if not runner.wait_for(wanted, timeout):
        raise ProjectionBehind(wanted, runner.position(), timeout)


@dataclass(frozen=True)
class Reading:
    """What a query route reads with: who asks, and one read transaction on the read models."""

    actor: Actor
    tx: Tx
    position: int  # the read models' position when the transaction began


class Reads:
    """A query route's reads: `await reads.run(work)` runs ``work(reading)`` in a worker thread,
    one trip for all of a route's blocking work, on a pooled read-model connection. There,
    `admit` first says who asks, on that connection (the token checked, the role, the read
    logged, or the request refused); then the read models are waited for up to `min_position`
    (read-your-writes), and `work` reads in one read transaction."""

    def __init__(self, admit: Callable[[Tx], Actor], pool: ReadPool, ledger: Ledger,
                 min_position: int | None, wait_seconds: float,
                 about: tuple[str | None, str | None] = (None, None),
                 response: Response | None = None) -> None:
        self.admit = admit
        self.pool = pool
        self.ledger = ledger
        self.min_position = min_position
        self.wait_seconds = wait_seconds
        self.about = about  # the worker or site the route reads (its path's ID), if any
        self.response = response

    async def run(self, work: Callable[[Reading], T]) -> T:
        return await self.pool.run(partial(self.run_here, work))

    def run_here(self, work: Callable[[Reading], T]) -> T:
        """`run` in the calling thread."""
        with self.pool.store() as store:
            with store.read() as tx:
                actor = self.admit(tx)
            if self.min_position is not None:
                wait_for_position(self.ledger, store, self.min_position, self.wait_seconds)
            with store.read() as tx:
                answer = work(Reading(actor, tx, projection_position(tx)))
                if self.about != (None, None):
                    self._say_if_incomplete(tx, answer)
                return answer

    def _say_if_incomplete(self, tx: Tx, answer: object) -> None:
        """A worker's or site's answer may miss what a quarantined event about them would have
        added: the `Ledger-Incomplete` header names those events' log positions."""
        positions = self.pool.quarantined_about(tx, *self.about)
        if not positions:
            return
        value = ", ".join(map(str, positions))
        for response in (self.response, answer):  # a route may answer a Response of its own
            if isinstance(response, Response):
                response.headers[INCOMPLETE_HEADER] = value


@dataclass(frozen=True)
class Lag:
    log_position: int
    projection_position: int
    events: int
    seconds: float  # age of the oldest event not projected yet; 0 when caught up


def projection_lag(ledger: Ledger, store: ReadStore) -> Lag:
    """How far the read models are behind the log, in events and in seconds."""
    position = LogFollower(ledger, store).position()
    head = ledger.log_position()
    seconds = 0.0
    if head > position:
        oldest = ledger.recorder.select_notifications(start=position, limit=1,
                                                      inclusive_of_start=False)
        if oldest:
            recorded = ledger.mapper.to_domain_event(oldest[0]).timestamp  # type: ignore[attr-defined]
            seconds = max((clock.now() - recorded).total_seconds(), 0.0)
    return Lag(head, position, max(head - position, 0), seconds)
