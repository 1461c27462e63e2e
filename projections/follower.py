"""The log follower: runs a projection over the event log in batches, each committed with its
tracking position in ``projection_positions`` (one row per projection: the ledger's read models,
and the nightly jobs' tables under their own name). Named apart from the library's
``ProjectionRunner``, which it is not: that one follows the log an event at a time.

Why batches: a transaction per event costs a round trip and a commit each, which on a log of
millions of taps is most of the time; a batch of thousands commits once, reads the log in one
query, and still never double-counts, because its rows and its position commit together.

Read-model rows and the position they bring the projection to commit in one transaction, so a
crash never double-counts or skips. Two runners on one database do not both process a batch: the
position row is locked (PostgreSQL) or the write lock is held (SQLite), and a runner whose
position moved meanwhile rolls back and starts again from the new one.

A batch that fails for one of its events is split in halves, each committed on its own, until the
event that fails alone is found; it is quarantined (`projections/quarantine.py`) and the position
moves past it, so one event cannot stop the projection for everyone. A failure of the database
itself is not split: it is raised, and the runner tries the batch again later.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, cast

from ledger.application import Ledger
from projections.decoding import LoggedEvent, decode
from projections.projector import LedgerProjection
from projections.quarantine import Undecodable, describe, is_event_fault, quarantine
from projections.store import ReadStore, Tx

log = logging.getLogger("projections.follower")

# Larger batches project faster and hold more in memory; this size keeps the peak well under the
# 500 MB target (the measured trade-off is in BENCHMARKS.md).
DEFAULT_BATCH = 20_000
# While catching up, the cycle collector is paused and run once every so many batches. The
# projection's own objects are freed by reference counting; with the collector on, its passes over
# the batches in memory and the kept facts took a large share of the catch-up's CPU, and a
# catch-up leaves few objects in reference cycles (figures in BENCHMARKS.md).
COLLECT_EVERY_BATCHES = 50
# A batch in which more events than this fail alone is failing for a reason of its own (a bug
# meeting every event of a kind, say), not for a few bad events: the runner stops quarantining and
# raises. Those already quarantined are retried after the fix (`ledger quarantine retry`).
MAX_QUARANTINED_PER_BATCH = 100


@dataclass(frozen=True)
class Fetched:
    """A batch read from the log: where it ends, how many events it held, those to project."""

    last_position: int
    count: int
    events: list[LoggedEvent | Undecodable]


class Projection(Protocol):
    """What the follower runs: ``LedgerProjection``, or the jobs' (``projections.jobs``)."""

    name: str

    def begin(self, position: int) -> None: ...

    def process(self, tx: Tx, batch: list[LoggedEvent]) -> None: ...

    def committed(self, position: int) -> None: ...

    def forget(self) -> None: ...


class PositionMoved(Exception):
    """Another runner advanced the projection while this one was reading."""


class TooManyFaults(Exception):
    """More events of one batch failed alone than the runner quarantines (see the limit)."""


class LogFollower:
    def __init__(
        self,
        ledger: Ledger,
        store: ReadStore,
        projection: Projection | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.projection: Projection = projection or LedgerProjection()
        # A projection that reads only some topics (the jobs') has the log filtered for it.
        self.topics: Sequence[str] = tuple(getattr(self.projection, "topics", ()))
        self.batch_size = batch_size
        self.progress: Callable[[int], None] | None = None
        # Read no further than this log position (the read-model check compares at one).
        self.stop: int | None = None
        self._retried: int | None = None  # quarantined events retried in place, as last seen
        self._quarantined_in_batch = 0

    @property
    def name(self) -> str:
        return self.projection.name

    def position(self) -> int:
        with self.store.read() as tx:
            return self._position(tx)

    def _position(self, tx: Tx) -> int:
        rows = tx.execute(
            "SELECT position FROM {projection_positions} WHERE name = %s", [self.name]
        )
        return int(rows[0][0]) if rows else 0

    def run_once(self) -> int:
        """Process the next batch; return how many events it held (0: caught up)."""
        start = self.position()
        return self._commit(start, self._fetch(start))

    def _fetch(self, start: int) -> Fetched:
        # Filtered by topic, a short batch means nothing else of ours up to the head read
        # before it: the position moves to that head, so the next call does not scan the
        # other events (taps) in between again.
        head = (self.ledger.log_position() if self.stop is None else self.stop) \
            if self.topics else start
        notifications = self.ledger.recorder.select_notifications(
            start=start, limit=self.batch_size, stop=self.stop, topics=self.topics,
            inclusive_of_start=False
        )
        if self.topics and len(notifications) < self.batch_size and head > start:
            last = max(head, notifications[-1].id) if notifications else head
        elif not notifications:
            return Fetched(start, 0, [])
        else:
            last = notifications[-1].id
        events: list[LoggedEvent | Undecodable]
        try:
            events = list(decode(self.ledger.mapper, notifications))
        except Exception:  # one at a time, to find those that cannot be decoded
            events = []
            for notification in notifications:
                try:
                    events += decode(self.ledger.mapper, [notification])
                except Exception as error:
                    events.append(Undecodable(notification.id, notification.topic, error))
        return Fetched(last, len(notifications), events)

    def _commit(self, start: int, fetched: Fetched) -> int:
        """Project a fetched batch and move the position, if it is still where we read from."""
        if fetched.last_position == start:
            return 0
        try:
            try:
                self._project(start, fetched.events, fetched.last_position)
            except Exception as error:
                if not _event_fault(error):
                    raise
                self._quarantined_in_batch = 0
                self._split(start, fetched.events, fetched.last_position)
        except PositionMoved:
            return fetched.count
        if self.progress is not None:
            self.progress(fetched.count)
        return fetched.count

    def _project(
        self, start: int, events: list[LoggedEvent | Undecodable], last_position: int
    ) -> None:
        """Commit events (start, last_position] with the position; those undecodable are
        quarantined in the same transaction."""
        undecodable = [e for e in events if isinstance(e, Undecodable)]
        try:
            with self.store.transaction() as tx:
                position, retried = self._locked_position(tx)
                if position != start:
                    raise PositionMoved
                if retried != self._retried:  # a retry added rows the kept facts lack
                    self.projection.forget()
                    self._retried = retried
                self.projection.begin(start)
                for bad in undecodable:
                    quarantine(tx, bad.position, bad.name, None, bad.error)
                decoded = cast(list[LoggedEvent], events) if not undecodable else [
                    e for e in events if not isinstance(e, Undecodable)]
                self.projection.process(tx, decoded)
                self._move(tx, last_position)
        except BaseException:
            self.projection.forget()  # what it kept may hold the rolled-back batch
            raise
        self.projection.committed(last_position)
        for bad in undecodable:
            self._say_quarantined(bad.position, bad.name, bad.error)

    def _split(
        self, start: int, events: list[LoggedEvent | Undecodable], last_position: int
    ) -> None:
        """Find the events that fail alone by halving, committing the halves that project."""
        if len(events) <= 1:
            try:  # alone, once more: a second failure is the event's own
                self._project(start, events, last_position)
            except Exception as error:
                if not events or not _event_fault(error):
                    raise
                self._quarantine_alone(start, events[0], last_position, error)
            return
        middle = len(events) // 2
        halves = ((events[:middle], events[middle - 1].position), (events[middle:], last_position))
        for half, half_last in halves:
            try:
                self._project(start, half, half_last)
            except Exception as error:
                if not _event_fault(error):
                    raise
                self._split(start, half, half_last)
            start = half_last

    def _quarantine_alone(
        self, start: int, event: LoggedEvent | Undecodable, last_position: int, error: Exception
    ) -> None:
        self._quarantined_in_batch += 1
        if self._quarantined_in_batch > MAX_QUARANTINED_PER_BATCH:
            raise TooManyFaults(
                f"more than {MAX_QUARANTINED_PER_BATCH} events of one batch failed alone; "
                f"the last: {describe(error)}"
            ) from error
        state = None if isinstance(event, Undecodable) else event.state
        with self.store.transaction() as tx:
            if self._locked_position(tx)[0] != start:
                raise PositionMoved
            quarantine(tx, event.position, event.name, state, error)
            self._move(tx, last_position)
        self.projection.committed(last_position)  # it kept nothing: _project forgot on failure
        self._say_quarantined(event.position, event.name, error)

    @staticmethod
    def _say_quarantined(position: int, name: str, error: Exception) -> None:
        kind, message = describe(error)
        # Once per event: the runner has moved past it, so it is not met again.
        log.error("quarantined the event at position %s (%s): %s: %s; the projection goes on "
                  "without it (`ledger quarantine list`)", position, name, kind, message)

    def _move(self, tx: Tx, position: int) -> None:
        tx.execute(
            "UPDATE {projection_positions} SET position = %s WHERE name = %s",
            [position, self.name],
        )

    def _locked_position(self, tx: Tx) -> tuple[int, int]:
        """The projection's position and retry count, locked for this transaction."""
        tx.execute(
            "INSERT INTO {projection_positions} (name, position) VALUES (%s, 0) "
            "ON CONFLICT DO NOTHING",
            [self.name],
        )
        lock = "" if self.store.sqlite else " FOR UPDATE"
        rows = tx.execute(
            f"SELECT position, retried FROM {{projection_positions}} WHERE name = %s{lock}",
            [self.name],
        )
        return int(rows[0][0]), int(rows[0][1])

    def catch_up(self, until: int | None = None) -> int:
        """Process batches until the head of the log (or a position); return events processed.

        The next batch is read and decoded in a second thread while this one is written: the
        database works on one while Python works on the other."""
        total, batches = 0, 0
        start = self.position()
        with ThreadPoolExecutor(max_workers=1) as reader, collector_paused():
            upcoming = reader.submit(self._fetch, start)
            while until is None or start < until:
                fetched = upcoming.result()
                if fetched.last_position == start:
                    break
                batches += 1
                if batches % COLLECT_EVERY_BATCHES == 0:
                    gc.collect()
                upcoming = reader.submit(self._fetch, fetched.last_position)
                total += self._commit(start, fetched)
                position = self.position()
                if position != fetched.last_position:  # another runner moved it: read again
                    upcoming.cancel()
                    upcoming = reader.submit(self._fetch, position)
                start = position
            upcoming.cancel()
        return total

    def wait_for(self, position: int, timeout: float) -> bool:
        """Read-your-writes: wait (bounded) until the projection has reached a log position."""
        deadline = time.monotonic() + timeout
        while self.position() < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def run_forever(
        self, stop: threading.Event, idle_wait: float = 0.2, retry_wait: float = 1.0
    ) -> None:
        """Follow the log until ``stop``; a failure (the database went away) is logged once and
        the batch tried again every ``retry_wait`` seconds until it commits."""
        failures = FailureLog(log)
        while not stop.is_set():
            try:
                processed = self.run_once()
            except Exception as error:
                failures.failed(error)
                stop.wait(retry_wait)
                continue
            failures.recovered()
            if processed == 0:
                stop.wait(idle_wait)


class FailureLog:
    """Logs a failure that repeats (the projection retrying every second) once, with its
    traceback, until it changes or the projection recovers; not a traceback a second."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.current: str | None = None

    def failed(self, error: BaseException) -> bool:
        """Log ``error`` unless it is the one logged last; return whether it was logged."""
        kind, message = describe(error)
        text = f"{kind}: {message}"
        if text == self.current:
            self.logger.debug("projection still failing: %s", text)
            return False
        self.current = text
        self.logger.error("projection failed; retrying until it commits (logged once): %s", text,
                          exc_info=error)
        return True

    def recovered(self) -> None:
        if self.current is not None:
            self.logger.warning("projection recovered after: %s", self.current)
            self.current = None


def _event_fault(error: BaseException) -> bool:
    """Whether a failure may be one event's doing: not the runner's own signals."""
    return not isinstance(error, PositionMoved | TooManyFaults) and is_event_fault(error)


@contextmanager
def collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
