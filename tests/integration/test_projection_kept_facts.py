"""The projection keeps the facts of the workers a batch touched for the next batch. These tests
show the records come out as a rebuild from nothing makes them, whatever happened in between:
another runner moving the position, a failed batch, a request changing a kept worker's day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.projector import LedgerProjection
from projections.replay import rebuild
from projections.store import ReadStore, Tx
from tests.integration.projection_support import snapshot
from tests.integration.world import (
    ADMIN,
    EMPLOYER_ADMIN,
    PRIME_STAFF,
    SITE,
    SUB,
    TECHNICIAN,
    register_world,
)

CARD = "04A1B2C3"


def tap(n: int, direction: str, at: datetime) -> TapObservation:
    return TapObservation(f"GATE-1:{n}", "GATE-1", direction, at, card_id=CARD)


def at(day: int, hour: int) -> datetime:
    return datetime(2025, 6, 2, tzinfo=JST) + timedelta(days=day, hours=hour)


def records(store: ReadStore) -> list[tuple[Any, ...]]:
    with store.read() as tx:
        return tx.execute(
            "SELECT work_date, first_entry, last_exit, source, status, flags, event_positions "
            "FROM {work_records} ORDER BY work_date"
        )


def same_as_a_rebuild(ledger: Ledger, settings: Settings, store: ReadStore) -> None:
    incremental = snapshot(store)
    rebuild(ledger, settings)
    assert snapshot(store) == incremental


@pytest.fixture
def store(settings: Settings) -> Any:
    store = ReadStore(settings)
    yield store
    store.close()


def test_an_overnight_exit_in_a_later_batch_closes_the_kept_day(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    register_world(ledger)
    runner = LogFollower(ledger, store)
    ledger.record_taps([tap(1, "in", at(0, 20))], ADMIN)
    runner.catch_up()
    ledger.record_taps([tap(2, "out", at(1, 5))], ADMIN)  # after midnight: the same shift
    runner.catch_up()
    rows = records(store)
    assert [(str(r[0]), r[4]) for r in rows] == [("2025-06-02", "counted")]
    assert "missing_exit" not in rows[0][5]
    same_as_a_rebuild(ledger, settings, store)


def test_a_runner_whose_position_another_runner_moved_reads_the_facts_again(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    register_world(ledger)
    first = LogFollower(ledger, store)
    ledger.record_taps([tap(1, "in", at(0, 8))], ADMIN)
    first.catch_up()  # keeps the worker's facts: one entry, no exit
    ledger.record_taps([tap(2, "out", at(0, 17))], ADMIN)
    other = ReadStore(settings)
    try:
        LogFollower(ledger, other).catch_up()  # the exit, seen by another runner only
    finally:
        other.close()
    ledger.record_taps([tap(3, "in", at(0, 12)), tap(4, "in", at(1, 8))], ADMIN)
    first.catch_up()  # must not rebuild 06-02 from its own facts, which lack the exit
    rows = records(store)
    assert [str(r[0]) for r in rows] == ["2025-06-02", "2025-06-03"]
    assert rows[0][2] is not None and "missing_exit" not in rows[0][5], rows
    same_as_a_rebuild(ledger, settings, store)


class FailingOnce(LedgerProjection):
    """Processes a batch, then fails before it commits, once (as a database that went away:
    a failure the runner does not take for an event's own)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    def process(self, tx: Tx, batch: Any) -> None:
        super().process(tx, batch)
        if not self.failed:
            self.failed = True
            raise psycopg.OperationalError("simulated failure before commit")


def test_what_a_rolled_back_batch_left_in_the_kept_facts_is_forgotten(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    register_world(ledger)
    projection = FailingOnce()
    projection.failed = True
    runner = LogFollower(ledger, store, projection)
    ledger.record_taps([tap(1, "in", at(0, 8))], ADMIN)
    runner.catch_up()
    ledger.record_taps([tap(2, "out", at(0, 17))], ADMIN)
    projection.failed = False
    with pytest.raises(psycopg.OperationalError, match="simulated failure"):
        runner.catch_up()  # the exit was added to the kept facts, then rolled back
    assert records(store)[0][2] is None
    runner.catch_up()
    rows = records(store)
    assert len(rows) == 1 and rows[0][2] is not None and "missing_exit" not in rows[0][5]
    same_as_a_rebuild(ledger, settings, store)


def test_an_approved_entry_changes_a_kept_workers_day(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    register_world(ledger)
    runner = LogFollower(ledger, store)
    ledger.record_taps([tap(1, "in", at(0, 8)), tap(2, "out", at(0, 17))], ADMIN)
    runner.catch_up()
    entry = ledger.request_manual_entry(
        TECHNICIAN, SITE, date(2025, 6, 2), SUB, "鉄筋", "職長", "配筋", EMPLOYER_ADMIN
    )
    runner.catch_up()
    ledger.approve(entry, PRIME_STAFF)
    ledger.record_taps([tap(3, "in", at(1, 8))], ADMIN)  # the same batch: the worker stays kept
    runner.catch_up()
    with store.read() as tx:
        rows = tx.execute(
            "SELECT work_date, role_position, source FROM {work_records} ORDER BY work_date"
        )
    assert [(str(d), p, s) for d, p, s in rows] == [
        ("2025-06-02", "職長", "corrected"),
        ("2025-06-03", "一般", "card"),
    ]
    same_as_a_rebuild(ledger, settings, store)
