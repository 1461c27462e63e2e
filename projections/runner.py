"""Runs the projection over the event log: batches, each committed with its tracking position.

Read-model rows and the position they bring the projection to commit in one transaction, so a
crash never double-counts or skips. Two runners on one database do not both process a batch: the
position row is locked (PostgreSQL) or the write lock is held (SQLite), and a runner whose
position moved meanwhile rolls back and starts again from the new one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ledger.application import Ledger
from projections.projector import LedgerProjection
from projections.store import ReadStore, Tx

# Measured here: 2,000 → 8.5k events/s, 10,000 → 13.5k, 40,000 → 15k (and more memory).
DEFAULT_BATCH = 10_000


class PositionMoved(Exception):
    """Another runner advanced the projection while this one was reading."""


class ProjectionRunner:
    def __init__(
        self,
        ledger: Ledger,
        store: ReadStore,
        projection: LedgerProjection | None = None,
        batch_size: int = DEFAULT_BATCH,
        as_of: datetime | None = None,
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.projection = projection or LedgerProjection()
        self.batch_size = batch_size
        self.as_of = as_of  # replay only events recorded up to this moment
        self.progress: Callable[[int], None] | None = None

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
        notifications = self.ledger.recorder.select_notifications(
            start=start, limit=self.batch_size, inclusive_of_start=False
        )
        if not notifications:
            return 0
        batch: list[tuple[int, Any]] = []
        for notification in notifications:
            event = self.ledger.mapper.to_domain_event(notification)
            if self.as_of is None or event.timestamp <= self.as_of:  # type: ignore[attr-defined]
                batch.append((notification.id, event))
        try:
            with self.store.transaction() as tx:
                if self._locked_position(tx) != start:
                    raise PositionMoved
                self.projection.process(tx, batch)
                tx.execute(
                    "UPDATE {projection_positions} SET position = %s WHERE name = %s",
                    [notifications[-1].id, self.name],
                )
        except PositionMoved:
            return len(notifications)
        if self.progress is not None:
            self.progress(len(notifications))
        return len(notifications)

    def _locked_position(self, tx: Tx) -> int:
        tx.execute(
            "INSERT INTO {projection_positions} (name, position) VALUES (%s, 0) "
            "ON CONFLICT DO NOTHING",
            [self.name],
        )
        lock = "" if self.store.sqlite else " FOR UPDATE"
        rows = tx.execute(
            f"SELECT position FROM {{projection_positions}} WHERE name = %s{lock}", [self.name]
        )
        return int(rows[0][0])

    def catch_up(self, until: int | None = None) -> int:
        """Process batches until the head of the log (or a position); return events processed."""
        total = 0
        while until is None or self.position() < until:
            processed = self.run_once()
            if processed == 0:
                break
            total += processed
        return total

    def lag(self) -> int:
        return max(self.ledger.log_position() - self.position(), 0)

    def wait_for(self, position: int, timeout: float) -> bool:
        """Read-your-writes: wait (bounded) until the projection has reached a log position."""
        deadline = time.monotonic() + timeout
        while self.position() < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def run_forever(self, stop: threading.Event, idle_wait: float = 0.2) -> None:
        while not stop.is_set():
            if self.run_once() == 0:
                stop.wait(idle_wait)
