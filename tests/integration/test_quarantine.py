"""No accepted event can stop the projection: one it cannot project is quarantined, the rest goes
on, and a retry after the fix leaves the read models as a rebuild makes them. On both databases."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.domain import event
from eventsourcing.persistence import StoredEvent

from ledger.application import Ledger
from ledger.clock import EARLIEST_MOMENT, JST, LATEST_MOMENT
from ledger.domain.base import LedgerAggregate
from ledger.domain.business import Business
from ledger.domain.taps import TapObservation
from ledger.errors import InvalidValue
from ledger.settings import Settings
from projections.follower import LogFollower, TooManyFaults
from projections.projector import LedgerProjection
from projections.quarantine import QuarantinedEvent, quarantined
from projections.quarantine_retry import retry
from projections.replay import rebuild
from projections.store import ReadStore, Tx
from tests.integration.projection_support import snapshot
from tests.integration.world import ADMIN, SITE, TECHNICIAN, register_world

CARD = "04A1B2C3"


def tap(n: int, direction: str, at: datetime) -> TapObservation:
    return TapObservation(f"GATE-1:{n}", "GATE-1", direction, at, card_id=CARD)


def at(day: int, hour: int) -> datetime:
    return datetime(2025, 6, 2, tzinfo=JST) + timedelta(days=day, hours=hour)


class FailingAt(LedgerProjection):
    """A projection with a bug that meets the events at some log positions (fixed later: the
    retry projects with the real projection)."""

    def __init__(self, *positions: int) -> None:
        super().__init__()
        self.positions = set(positions)

    def process(self, tx: Tx, batch: Any) -> None:
        if self.positions.intersection(event.position for event in batch):
            raise OverflowError("date value out of range")
        super().process(tx, batch)


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadStore]:
    store = ReadStore(settings)
    yield store
    store.close()


def held(store: ReadStore) -> list[QuarantinedEvent]:
    with store.read() as tx:
        return quarantined(tx)


def records(store: ReadStore) -> list[tuple[Any, ...]]:
    with store.read() as tx:
        return tx.execute("SELECT work_date, first_entry, last_exit, event_positions "
                          "FROM {work_records} ORDER BY work_date")


def read_model(store: ReadStore) -> dict[str, Any]:
    """The read models without the projection's own bookkeeping (its retry count)."""
    tables = snapshot(store)
    del tables["projection_positions"]
    return tables


def equals_a_rebuild(ledger: Ledger, settings: Settings, store: ReadStore) -> None:
    incremental = read_model(store)
    rebuild(ledger, settings)
    assert read_model(store) == incremental


def test_a_tap_that_cannot_be_projected_is_quarantined_and_the_rest_goes_on(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    register_world(ledger)
    ledger.record_taps([tap(1, "in", at(0, 8)), tap(2, "out", at(0, 17)),
                        tap(3, "in", at(1, 8))], ADMIN)
    poison = ledger.log_position() - 1  # the exit on 06-02
    runner = LogFollower(ledger, store, FailingAt(poison), batch_size=4)
    assert runner.catch_up() == ledger.log_position()
    assert runner.position() == ledger.log_position()
    [event] = held(store)
    assert (event.position, event.event_type, event.error_kind) == (
        poison, "Tap.Recorded", "OverflowError")
    assert event.error_message == "date value out of range" and event.attempts == 1
    assert (event.technician_id, event.site_id) == (TECHNICIAN, SITE)  # by the card and reader
    with store.read() as tx:
        taps = [row[0] for row in tx.execute("SELECT tap_id FROM {tap_facts} ORDER BY tap_id")]
    assert taps == ["GATE-1:1", "GATE-1:3"]  # the taps before and after it are projected
    assert [str(row[0]) for row in records(store)] == ["2025-06-02", "2025-06-03"]


def test_a_retried_tap_leaves_the_read_models_as_a_rebuild(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    """Projected late, after later taps of the same worker and day: the day's record is
    recomputed from every tap, as a rebuild computes it."""
    register_world(ledger)
    ledger.record_taps([tap(1, "in", at(0, 8))], ADMIN)
    poison = ledger.log_position()
    ledger.record_taps([tap(2, "out", at(0, 17))], ADMIN)
    LogFollower(ledger, store, FailingAt(poison)).catch_up()
    assert records(store)[0][1] is None  # the entry is missing from the record
    outcome = retry(ledger, settings)
    assert (outcome.projected, outcome.still_quarantined, outcome.rebuilt) == ([poison], [], False)
    assert held(store) == []
    assert records(store)[0][1] is not None
    equals_a_rebuild(ledger, settings, store)


def test_a_runner_drops_what_it_kept_when_a_retry_changed_the_facts(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    """The live runner kept the worker's day without the quarantined tap; the retry (another
    process) adds it; the runner's next batch on that day must not rebuild it without it."""
    register_world(ledger)
    ledger.record_taps([tap(1, "in", at(0, 8))], ADMIN)
    poison = ledger.log_position()
    ledger.record_taps([tap(2, "in", at(0, 7))], ADMIN)
    live = LogFollower(ledger, store, FailingAt(poison))
    live.catch_up()
    retry(ledger, settings)
    ledger.record_taps([tap(3, "out", at(0, 17))], ADMIN)
    live.catch_up()
    positions = records(store)[0][3]
    assert str(poison) in str(positions), positions
    equals_a_rebuild(ledger, settings, store)


def test_a_retried_card_issue_rebuilds_so_later_taps_are_judged_by_it(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    """Taps after a quarantined card issue were judged without the card (unknown_card); a card
    projected late would leave them so, so its retry rebuilds the read models."""
    register_world(ledger)
    ledger.issue_card("0000BEEF", TECHNICIAN, ADMIN)
    poison = ledger.log_position()
    ledger.record_taps([TapObservation("GATE-1:1", "GATE-1", "in", at(0, 8),
                                       card_id="0000BEEF")], ADMIN)
    LogFollower(ledger, store, FailingAt(poison)).catch_up()
    [event] = held(store)
    assert (event.event_type, event.technician_id) == ("Card.Issued", TECHNICIAN)
    with store.read() as tx:
        assert tx.execute("SELECT kind FROM {site_exceptions}") == [("unknown_card",)]
    outcome = retry(ledger, settings, poison)
    assert (outcome.projected, outcome.rebuilt) == ([poison], True)
    with store.read() as tx:
        assert tx.execute("SELECT kind FROM {site_exceptions}") == []
    assert held(store) == []
    equals_a_rebuild(ledger, settings, store)


def test_an_event_that_still_fails_stays_quarantined_with_one_more_attempt(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    register_world(ledger)
    position = store_undecodable(ledger)
    ledger.record_taps([tap(1, "in", at(0, 8))], ADMIN)
    LogFollower(ledger, store).catch_up()
    [event] = held(store)
    assert (event.position, event.event_type) == (position, "ledger.domain.gone:Gone.Happened")
    assert event.error_kind == "TopicError" and event.attempts == 1
    assert len(records(store)) == 1  # the tap after it is projected
    outcome = retry(ledger, settings)  # not a tap or request: by a rebuild, which meets it again
    assert outcome.projected == [] and [e.position for e in outcome.still_quarantined] == [position]
    assert outcome.rebuilt
    retry(ledger, settings, position)
    [again] = held(store)
    assert (again.position, again.attempts, again.first_seen_at) == (
        position, 3, event.first_seen_at)  # its history survives the rebuilds


def store_undecodable(ledger: Ledger) -> int:
    """An event no class of this version decodes (as one written by a newer version)."""
    ledger.recorder.insert_events([StoredEvent(
        originator_id=uuid4(), originator_version=1, topic="ledger.domain.gone:Gone.Happened",
        state=b"{}")])
    return ledger.log_position()


def test_a_retried_tap_that_still_fails_counts_an_attempt(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    register_world(ledger)
    ledger.record_taps([tap(1, "in", at(0, 8))], ADMIN)
    poison = ledger.log_position()
    LogFollower(ledger, store, FailingAt(poison)).catch_up()
    outcome = retry(ledger, settings, projection=lambda: FailingAt(poison))  # not fixed yet
    assert outcome.projected == [] and not outcome.rebuilt
    [event] = held(store)
    assert (event.position, event.attempts, event.error_kind) == (poison, 2, "OverflowError")


def test_a_nul_in_a_name_stored_before_the_text_rule_is_quarantined_on_postgresql(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    """PostgreSQL's text cannot hold NUL (SQLite's can): there it is the event's own fault."""
    register_world(ledger)
    ledger.save(Business(business_id="555", name="鈴木\x00建設", actor=ADMIN))  # no command
    position = ledger.log_position()
    ledger.record_taps([tap(1, "in", at(0, 8))], ADMIN)
    assert LogFollower(ledger, store).catch_up() == ledger.log_position()
    assert len(records(store)) == 1
    if settings.is_postgres:
        [event] = held(store)
        assert (event.position, event.event_type, event.error_kind) == (
            position, "Business.Registered", "DataError")
        assert "NUL" in event.error_message
    else:
        assert held(store) == []


class Stray(LedgerAggregate):
    """An aggregate the projection neither projects nor ignores (every one of the domain's is
    one or the other: tests/unit/test_projector_dispatch.py)."""

    @event("Noted")
    def __init__(self, technician_id: str) -> None:
        self.technician_id = technician_id


def test_an_event_of_a_class_the_projection_does_not_know_is_quarantined_not_passed_over(
    ledger: Ledger, store: ReadStore, now: Any
) -> None:
    register_world(ledger)
    ledger.save(Stray(technician_id=TECHNICIAN))  # no use case writes it
    position = ledger.log_position()
    ledger.record_taps([tap(1, "in", at(0, 8))], ADMIN)
    assert LogFollower(ledger, store).catch_up() == ledger.log_position()
    [event] = held(store)
    assert (event.position, event.event_type, event.error_kind, event.technician_id) == (
        position, "Stray.Noted", "UnprojectableEvent", TECHNICIAN)
    assert "Stray.Noted" in event.error_message
    assert len(records(store)) == 1  # the rest goes on


@pytest.mark.parametrize("reader_time", [
    datetime(9999, 12, 31, 23, 59, tzinfo=JST),
    datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12))),
    datetime(1, 1, 1, 0, 0, tzinfo=JST),
    datetime(1, 1, 1, 12, 0, tzinfo=UTC),
    datetime(1970, 1, 1, 9, 0, tzinfo=JST),
], ids=["9999-jst", "9999-utc-12", "0001-jst", "0001-utc", "1970"])
def test_a_tap_from_a_reader_clock_out_of_range_is_stored_as_sent_and_projected_flagged(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any, reader_time: datetime
) -> None:
    """Regression: a tap at 9999-12-31 or 0001-01-01 overflowed and stopped the projection for
    good, and `ledger replay` with it. Now it is stored as the reader sent it, projected at the
    nearest bound of the ledger's range, flagged clock_skew, and nothing is quarantined."""
    register_world(ledger)
    ledger.record_taps([tap(1, "in", reader_time), tap(2, "in", at(0, 8))], ADMIN)
    stored = [vars(e)["reader_time"] for _, e in ledger.iter_log()
              if type(e).__qualname__ == "Tap.Recorded"]
    assert stored[0] == reader_time  # nothing a reader sends is dropped or changed
    LogFollower(ledger, store).catch_up()
    assert held(store) == []
    with store.read() as tx:
        rows = tx.execute("SELECT tap_id, reader_time, flags FROM {tap_facts} ORDER BY tap_id")
    assert [(row[0], "clock_skew" in row[2]) for row in rows] == [
        ("GATE-1:1", True), ("GATE-1:2", False)]
    projected = rows[0][1] if isinstance(rows[0][1], datetime) else datetime.fromisoformat(
        rows[0][1])
    if reader_time.year == 1970:
        assert projected == reader_time
    else:  # the nearest bound
        assert projected in (EARLIEST_MOMENT, LATEST_MOMENT - timedelta(microseconds=1))
    equals_a_rebuild(ledger, settings, store)  # `ledger replay` meets it too


def test_a_failure_of_the_database_is_not_blamed_on_an_event(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    register_world(ledger)
    ledger.record_taps([tap(1, "in", at(0, 8))], ADMIN)
    with store.transaction() as tx:
        tx.execute("ALTER TABLE tap_facts RENAME TO tap_facts_away")
    runner = LogFollower(ledger, store)
    with pytest.raises((psycopg.ProgrammingError, sqlite3.OperationalError)) as caught:
        runner.catch_up()
    assert "tap_facts" in str(caught.value)
    assert held(store) == [] and runner.position() < ledger.log_position()


def test_a_repeated_failure_is_logged_once_and_the_recovery_once(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any,
    caplog: pytest.LogCaptureFixture
) -> None:
    register_world(ledger)
    with store.transaction() as tx:
        tx.execute("ALTER TABLE tap_facts RENAME TO tap_facts_away")
    ledger.record_taps([tap(1, "in", at(0, 8))], ADMIN)
    caplog.set_level(logging.DEBUG, logger="projections.follower")
    stop = threading.Event()
    runner = LogFollower(ledger, store)
    follower = threading.Thread(target=runner.run_forever, args=(stop, 0.01, 0.01))
    follower.start()
    try:
        wait_until(lambda: sum("still failing" in r.message for r in caplog.records) >= 5)
        with ReadStore(settings).transaction() as tx:
            tx.execute("ALTER TABLE tap_facts_away RENAME TO tap_facts")
        wait_until(lambda: any("recovered" in r.message for r in caplog.records))
    finally:
        stop.set()
        follower.join()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None  # one traceback, not one a try
    assert sum("recovered" in r.message for r in caplog.records) == 1
    assert runner.position() == ledger.log_position()


def wait_until(check: Any, tries: int = 400) -> None:
    for _ in range(tries):
        if check():
            return
        threading.Event().wait(0.05)
    raise AssertionError("the condition never held")


def test_employment_dates_outside_the_ledgers_range_are_refused(ledger: Ledger, now: Any) -> None:
    """Every date the write side accepts is one the read side can compute with."""
    register_world(ledger)
    for since in (date(1, 1, 1), date(9999, 12, 31)):
        with pytest.raises(InvalidValue, match=r"since: .* is not between") as refused:
            ledger.join_employer(TECHNICIAN, "300", since, False, ADMIN)
        assert refused.value.rule == "since.range"


def test_a_batch_where_too_many_events_fail_alone_stops_quarantining_and_raises(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every event failing looks like a bug, not bad events: the runner stops, loudly."""
    monkeypatch.setattr("projections.follower.MAX_QUARANTINED_PER_BATCH", 2)
    register_world(ledger)
    ledger.record_taps([tap(n, "in", at(n, 8)) for n in (1, 2, 3, 4)], ADMIN)
    head = ledger.log_position()
    runner = LogFollower(ledger, store, FailingAt(head - 2, head - 1, head))
    with pytest.raises(TooManyFaults, match="more than 2 events of one batch failed alone"):
        runner.catch_up()
    assert [event.position for event in held(store)] == [head - 2, head - 1]
    assert runner.position() == head - 1  # up to the last one quarantined, not past the third
