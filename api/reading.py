"""Reading the read models: a pool of read-model connections, read-your-writes, and the read
transaction a query route runs in.

A query route is async and names its reads in its signature (`Reads`, from `api.deps`); its
blocking work is one function of a `Reading` (the acting party, one read transaction, the
position the read models had reached), run in one trip to a worker thread. Before the
transaction opens, the route's `min_position` is waited for (bounded): a write answers its log
position, and a query given that position shows the write or answers 503 saying the projection
is behind.

With read replicas (`LEDGER_READ_DATABASE_URLS`, hot standbys of a PostgreSQL primary), a query
reads on a standby whose lag was last measured within bounds, in turn, and on the primary when
none is; a standby that fails is left alone for a while and the query is answered elsewhere. A
query with `min_position` reads on a standby only if that standby's read models have reached it
already; otherwise the primary answers at once (waiting there, bounded, as without replicas).
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import math
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from fastapi import Response

from api.problems import ProjectionBehind, Unauthenticated, Unavailable
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
log = logging.getLogger(__name__)
INCOMPLETE_HEADER = "Ledger-Incomplete"
QUARANTINE_CHECK_SECONDS = 1.0  # how stale the quarantined events a read is checked against
BROKEN_CONNECTION = (psycopg.OperationalError, psycopg.InterfaceError, sqlite3.OperationalError)


class Source:
    """A database the pool reads the read models on: the primary, or one of its hot standbys,
    with its idle connections and, for a standby, what was last learnt of its health."""

    def __init__(self, name: str, settings: Settings, replica: bool) -> None:
        self.name = name
        self.settings = settings
        self.replica = replica
        self.idle: queue.LifoQueue[ReadStore] = queue.LifoQueue()
        # A standby is read once its lag has been measured within bounds, and not before.
        self.usable = not replica
        self.down_until = 0.0  # a standby that failed is not tried again before this
        self.lag_seconds = math.inf

    def drain(self) -> None:
        """Close the idle connections (after a failure, they are likely broken too)."""
        while True:
            try:
                self.idle.get_nowait().close()
            except queue.Empty:
                return


def replica_settings(settings: Settings, url: str) -> Settings:
    """The settings a standby's connections are made with: its URL, given a connect timeout (a
    standby host that does not answer costs its checker seconds, not minutes) and an
    application name (it tells the API's reads in `pg_stat_activity`), unless it has its own."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("connect_timeout", "2")
    query.setdefault("application_name", "ledger-read")
    return settings.model_copy(update={
        "database_url": urlunsplit(parts._replace(query=urlencode(query))),
        "read_database_urls": ""})


def source_name(url: str) -> str:
    parts = urlsplit(url)  # never the password
    return f"replica {parts.hostname}:{parts.port or 5432}{parts.path}"


@dataclass(frozen=True)
class ReplicaHealth:
    """A standby as a process sees it: `read` (within the lag bound), `behind` (past it, not
    measured yet, or not a standby), or `down` (a query or the monitor found it failing)."""

    number: int
    state: str
    lag_seconds: float | None  # the last measured replay lag; None: not measured


class ReadPool:
    """Read-model connections for queries, one `ReadStore` each, lent to one request at a time.

    At most `size` are open; a request waits `wait_seconds` for one, then is answered 503. A
    connection that failed is closed and opened afresh on its next use. Given read replicas,
    `sources` says where a query may read (`Reads` tries them in turn) and a `ReplicaMonitor`
    measures their lag; `store()` without a source is the primary's (what the routes that read
    next to a write use).
    """

    def __init__(self, settings: Settings, size: int, wait_seconds: float) -> None:
        self.settings = settings
        self.size = size
        self.wait_seconds = wait_seconds
        self._slots = threading.BoundedSemaphore(size)
        self.primary = Source("primary", settings, replica=False)
        self.replicas = [Source(source_name(url), replica_settings(settings, url), replica=True)
                         for url in settings.read_urls]
        self._turn = itertools.count()  # round robin over the usable standbys
        self.health_lock = threading.Lock()  # a standby's usable/down_until
        self._threads = ThreadPoolExecutor(size, thread_name_prefix="read")
        self._turns: asyncio.Semaphore | None = None  # made in the event loop, on first use
        self._quarantine: list[tuple[int, str | None, str | None]] = []
        self._quarantine_checked = -QUARANTINE_CHECK_SECONDS
        self.monitor = ReplicaMonitor(self) if self.replicas else None
        if self.monitor is not None:
            self.monitor.start()

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

    def sources(self) -> list[Source]:
        """Where a query may read, in the order to try: the standbys usable now, starting from
        the next in turn, then the primary (always last: it answers when no standby can)."""
        now = time.monotonic()
        usable = [r for r in self.replicas if r.usable and now >= r.down_until]
        if usable:
            first = next(self._turn) % len(usable)
            usable = usable[first:] + usable[:first]
        return [*usable, self.primary]

    @contextmanager
    def store(self, source: Source | None = None) -> Iterator[ReadStore]:
        source = source or self.primary
        if not self._slots.acquire(timeout=self.wait_seconds):
            raise Unavailable("every read-model connection is busy")
        try:
            try:
                store = source.idle.get_nowait()
            except queue.Empty:
                store = ReadStore(source.settings, read_only=True)
            try:
                yield store
            except BROKEN_CONNECTION:
                store.close()  # reconnects on its next use
                raise
            finally:
                source.idle.put(store)
        finally:
            self._slots.release()

    def replica_health(self) -> list[ReplicaHealth]:
        """Each standby's state as this process last learnt it, in the order of
        LEDGER_READ_DATABASE_URLS (numbered from 1: no host name is shown where no key is
        needed)."""
        now = time.monotonic()
        with self.health_lock:
            return [ReplicaHealth(number, "down" if now < replica.down_until
                                  else "read" if replica.usable else "behind",
                                  None if math.isinf(replica.lag_seconds) else replica.lag_seconds)
                    for number, replica in enumerate(self.replicas, start=1)]

    def failed(self, replica: Source, error: Exception) -> None:
        """A standby failed a query: unless the query was only cancelled by the standby's
        replay (a recovery conflict, the standby itself fine), it is not read from until the
        monitor has found it answering again, `read_replica_retry_seconds` from now."""
        if isinstance(error, psycopg.errors.SerializationFailure):
            log.info("%s cancelled a query (recovery conflict); asked elsewhere", replica.name)
            return
        with self.health_lock:
            was_usable = replica.usable
            replica.usable = False
            replica.down_until = time.monotonic() + self.settings.read_replica_retry_seconds
        replica.drain()
        if was_usable:
            log.warning("%s failed (%s); reads go elsewhere until it answers again",
                        replica.name, str(error).strip().splitlines()[0] if str(error) else
                        type(error).__name__)

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
        if self.monitor is not None:
            self.monitor.stop()
        self._threads.shutdown()
        for source in (self.primary, *self.replicas):
            source.drain()


PRIMARY_WAL = "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"
STANDBY_WAL = "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'::pg_lsn"


def replay_lag(samples: Sequence[tuple[float, int]], replayed: int) -> float:
    """How many seconds a standby that has replayed the primary's WAL up to `replayed` is
    behind, given the primary's WAL position sampled over time (`samples`: (monotonic time,
    position), oldest first): none when it has replayed what the latest sample saw; else the
    time from the newest sample it has replayed to the latest one (an upper bound); infinite
    when it has replayed none of them. WAL positions rather than the read models' projection
    position: they cover every table a query reads (the API keys too), and a standby whose
    replay stalled shows behind as soon as the primary writes anything."""
    if not samples or replayed >= samples[-1][1]:
        return 0.0
    for at, position in reversed(samples):
        if position <= replayed:
            return samples[-1][0] - at
    return math.inf


class ReplicaMonitor:
    """Measures every standby's replay lag behind the primary each `read_replica_check_seconds`,
    in a thread of its own, so no query pays for it: one statement on the primary (its WAL
    position, kept with the time it was read) and one on each standby (the WAL position it has
    replayed). A standby within `read_replica_max_lag_seconds` is read from; one further behind,
    failing, or not a standby at all is not, until a later check finds it well."""

    def __init__(self, pool: ReadPool) -> None:
        self.pool = pool
        settings = pool.settings
        self.max_lag = settings.read_replica_max_lag_seconds
        self.interval = settings.read_replica_check_seconds
        self.samples: deque[tuple[float, int]] = deque()
        self._primary_failing = False  # said once, not every check
        self._stores: dict[str, ReadStore] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replica-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for store in self._stores.values():
            store.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:  # never let the checks stop: the standbys would stay as they are
                log.exception("replica monitor: a check failed")
            self._stop.wait(self.interval)

    def check(self) -> None:
        """One round: the primary's WAL position, then each standby's lag behind it."""
        self._sample_primary()
        for replica in self.pool.replicas:
            if time.monotonic() >= replica.down_until:
                self._check(replica)

    def _sample_primary(self) -> None:
        try:
            position = int(self._ask(self.pool.primary)[0])
        except BROKEN_CONNECTION as error:
            # Without the primary the standbys are measured against its last position: they
            # go on answering reads (what is read is what it had) until it is back.
            if not self._primary_failing:
                log.warning("replica monitor: the primary does not answer (%s)", error)
            self._primary_failing = True
            return
        self._primary_failing = False
        now = time.monotonic()
        self.samples.append((now, position))
        keep = now - (self.max_lag + 2 * self.interval)  # the oldest sample that still matters
        while len(self.samples) > 1 and self.samples[1][0] <= keep:
            self.samples.popleft()

    def _check(self, replica: Source) -> None:
        try:
            in_recovery, replayed = self._ask(replica)
        except BROKEN_CONNECTION as error:
            self.pool.failed(replica, error)
            return
        # A standby that has replayed nothing yet (NULL) is as far behind as can be.
        lag = (replay_lag(self.samples, int(replayed)) if in_recovery and replayed is not None
               else math.inf)
        usable = lag <= self.max_lag
        with self.pool.health_lock:
            if time.monotonic() < replica.down_until:
                return  # a query found it failing meanwhile
            was_usable, replica.usable, replica.lag_seconds = replica.usable, usable, lag
        if usable and not was_usable:
            log.info("%s is read from (%.1f s behind the primary)", replica.name, lag)
        elif was_usable and not usable:
            log.warning("%s is not read from: %s", replica.name,
                        f"more than {self.max_lag:g} s behind the primary" if in_recovery
                        else "it is not a hot standby (not in recovery)")

    def _ask(self, source: Source) -> tuple[Any, ...]:
        store = self._stores.get(source.name)
        if store is None:
            store = self._stores[source.name] = ReadStore(source.settings, read_only=True)
        try:
            with store.read() as tx:
                return tx.execute(STANDBY_WAL if source.replica else PRIMARY_WAL)[0]
        except BROKEN_CONNECTION:
            store.close()
            raise


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
        """`run` in the calling thread: on a standby if one may answer, else on the primary. A
        standby that fails is left for the next source, and the query asked again there (a read
        changes nothing); the reader is admitted once (an auditor's read logged once)."""
        actor: Actor | None = None
        for source in self.pool.sources():
            try:
                with self.pool.store(source) as store:
                    if actor is None:
                        actor = self._admit(store, source)
                        if actor is None:
                            continue  # the token is unknown here: the primary checks it
                    if self.min_position is not None and not self._reached(store, source):
                        continue  # this standby is behind the write: the next source answers
                    return self._answer(store, actor, work)
            except BROKEN_CONNECTION as error:
                if not source.replica:
                    raise
                self.pool.failed(source, error)
        raise AssertionError("the primary, the last source, answers or raises")

    def _admit(self, store: ReadStore, source: Source) -> Actor | None:
        """The reader, admitted on `store`'s connection. On a standby, a token it does not know
        may be of a key issued a moment ago, not replayed there yet: None, and the primary
        decides (a revoked key is refused on a standby once it has replayed the revocation)."""
        try:
            with store.read() as tx:
                return self.admit(tx)
        except Unauthenticated:
            if source.replica:
                return None
            raise

    def _reached(self, store: ReadStore, source: Source) -> bool:
        """Read-your-writes: a standby answers only if its read models have reached
        `min_position` already; the primary waits for it (bounded)."""
        assert self.min_position is not None
        if source.replica:
            with store.read() as tx:
                return projection_position(tx) >= self.min_position
        wait_for_position(self.ledger, store, self.min_position, self.wait_seconds)
        return True

    def _answer(self, store: ReadStore, actor: Actor, work: Callable[[Reading], T]) -> T:
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
