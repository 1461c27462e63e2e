"""Registry changes between a worker's taps: the live projection must equal a replay of the log.

A batch holding only registry events (a roster entry, an employment) touches no work record, yet
it changes what the worker's later records are built from; and an employment's period decides the
employer of records already stored. Each test projects live in small steps, then rebuilds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.projector import LedgerProjection
from projections.replay import rebuild
from projections.store import ReadStore
from tests.integration.projection_support import snapshot
from tests.integration.world import (
    ADMIN,
    OTHER,
    PRIME_STAFF,
    SITE,
    SUB,
    TECHNICIAN,
    register_world,
)

NEWCOMER = "32345678901234"  # employed by SUB, not on the site's roster
NEWCOMER_CARD = "0D0D0D0D"


def tap(n: int, card: str, direction: str, day: int, hour: int) -> TapObservation:
    at = datetime(2025, 6, 2, tzinfo=JST) + timedelta(days=day, hours=hour)
    return TapObservation(f"GATE-1:{n}", "GATE-1", direction, at, card_id=card)


def a_day(ledger: Ledger, n: int, card: str, day: int) -> None:
    ledger.record_taps([tap(n, card, "in", day, 8), tap(n + 1, card, "out", day, 17)], ADMIN)


def records(store: ReadStore, technician_id: str) -> list[tuple[Any, ...]]:
    with store.read() as tx:
        return [
            (str(row[0]), *row[1:])
            for row in tx.execute(
                "SELECT work_date, employer_business_id, trade, role_position, flags "
                "FROM {work_records} WHERE technician_id = %s ORDER BY work_date",
                [technician_id],
            )
        ]


def live_equals_replay(ledger: Ledger, settings: Settings, store: ReadStore) -> None:
    live = snapshot(store)
    rebuild(ledger, settings)  # what `ledger replay` does: the whole log in one batch
    assert snapshot(store) == live


@pytest.fixture
def store(settings: Settings) -> Any:
    store = ReadStore(settings)
    yield store
    store.close()


@pytest.fixture
def newcomer(ledger: Ledger) -> str:
    register_world(ledger)
    ledger.register_worker(NEWCOMER, "鈴木 次郎", ADMIN)
    ledger.join_employer(NEWCOMER, SUB, date(2022, 4, 1), True, ADMIN)
    ledger.issue_card(NEWCOMER_CARD, NEWCOMER, ADMIN)
    return NEWCOMER


def test_a_roster_position_changed_in_a_batch_of_its_own_dates_later_taps_under_the_new_roster(
    ledger: Ledger, settings: Settings, store: ReadStore, now: Any
) -> None:
    register_world(ledger)  # the worker is on the roster as 一般
    runner = LogFollower(ledger, store)
    a_day(ledger, 1, "04A1B2C3", 0)
    runner.catch_up()  # keeps the worker's facts, roster included
    ledger.set_roster_entry(SITE, TECHNICIAN, SUB, "鉄筋", "職長", date(2025, 6, 3), PRIME_STAFF)
    runner.catch_up()  # a batch of that one registry event: no work record touched
    a_day(ledger, 3, "04A1B2C3", 1)
    runner.catch_up()
    assert [(r[0], r[3]) for r in records(store, TECHNICIAN)] == [
        ("2025-06-02", "一般"),
        ("2025-06-03", "職長"),
    ]
    live_equals_replay(ledger, settings, store)


def test_an_employment_change_in_a_batch_of_its_own_dates_later_taps_under_it(
    ledger: Ledger, settings: Settings, store: ReadStore, newcomer: str, now: Any
) -> None:
    runner = LogFollower(ledger, store)
    a_day(ledger, 1, NEWCOMER_CARD, 0)
    runner.catch_up()
    ledger.join_employer(NEWCOMER, OTHER, date(2025, 6, 3), True, ADMIN)
    runner.catch_up()
    a_day(ledger, 3, NEWCOMER_CARD, 1)
    runner.catch_up()
    assert [(r[0], r[1]) for r in records(store, NEWCOMER)] == [
        ("2025-06-02", SUB),
        ("2025-06-03", OTHER),
    ]
    live_equals_replay(ledger, settings, store)


def test_an_employment_ended_in_the_past_re_derives_the_employer_of_stored_records(
    ledger: Ledger, settings: Settings, store: ReadStore, newcomer: str, now: Any
) -> None:
    runner = LogFollower(ledger, store)
    a_day(ledger, 1, NEWCOMER_CARD, 0)
    a_day(ledger, 3, NEWCOMER_CARD, 1)
    runner.catch_up()
    assert [r[1] for r in records(store, NEWCOMER)] == [SUB, SUB]
    # The employer records afterwards that the worker left on 06-02 and joined OTHER on 06-03:
    # the employer of a day is whoever employed the worker on that date, as a replay finds it.
    ledger.leave_employer(NEWCOMER, SUB, date(2025, 6, 2), ADMIN)
    runner.catch_up()
    ledger.join_employer(NEWCOMER, OTHER, date(2025, 6, 3), True, ADMIN)
    runner.catch_up()
    assert [(r[0], r[1]) for r in records(store, NEWCOMER)] == [
        ("2025-06-02", SUB),
        ("2025-06-03", OTHER),
    ]
    live_equals_replay(ledger, settings, store)


def test_a_roster_entry_set_after_a_days_first_tap_leaves_that_day_not_on_roster(
    ledger: Ledger, settings: Settings, store: ReadStore, newcomer: str, now: Any
) -> None:
    runner = LogFollower(ledger, store)
    a_day(ledger, 1, NEWCOMER_CARD, 0)
    runner.catch_up()
    ledger.set_roster_entry(SITE, NEWCOMER, SUB, "鉄筋", "班長", date(2025, 6, 2), PRIME_STAFF)
    runner.catch_up()
    a_day(ledger, 3, NEWCOMER_CARD, 1)
    runner.catch_up()
    rows = records(store, NEWCOMER)
    # A day is judged by the roster as it was at its first tap (as its trade and position are).
    assert [(r[0], r[3], "not_on_roster" in r[4]) for r in rows] == [
        ("2025-06-02", None, True),
        ("2025-06-03", "班長", False),
    ]
    live_equals_replay(ledger, settings, store)


def test_an_employment_change_derives_a_long_career_again_beside_another_workers_taps(
    ledger: Ledger, settings: Settings, store: ReadStore, newcomer: str, now: Any
) -> None:
    runner = LogFollower(ledger, store)
    a_day(ledger, 1, NEWCOMER_CARD, 0)
    a_day(ledger, 3, NEWCOMER_CARD, 100)  # the worker's window is read on its own
    runner.catch_up()
    ledger.join_employer(NEWCOMER, OTHER, date(2025, 9, 1), True, ADMIN)
    a_day(ledger, 5, "04A1B2C3", 100)  # another worker, in the same batch
    runner.catch_up()
    assert [(r[0], r[1]) for r in records(store, NEWCOMER)] == [
        ("2025-06-02", SUB),
        ("2025-09-10", OTHER),
    ]
    assert [(r[0], r[1]) for r in records(store, TECHNICIAN)] == [("2025-09-10", SUB)]
    live_equals_replay(ledger, settings, store)


def test_a_registry_change_drops_only_its_own_workers_kept_facts(
    ledger: Ledger, settings: Settings, store: ReadStore, newcomer: str, now: Any
) -> None:
    projection = LedgerProjection()
    runner = LogFollower(ledger, store, projection)
    kept = projection.work_records._facts  # the hot path: a catch-up of taps keeps these
    a_day(ledger, 1, "04A1B2C3", 0)
    runner.catch_up()
    technicians_facts = kept[TECHNICIAN]
    ledger.set_roster_entry(SITE, NEWCOMER, SUB, "鉄筋", "班長", date(2025, 6, 2), PRIME_STAFF)
    runner.catch_up()  # another worker's registry change, in a batch of its own
    assert kept[TECHNICIAN] is technicians_facts
    a_day(ledger, 3, "04A1B2C3", 1)
    runner.catch_up()
    assert projection.work_records._facts[TECHNICIAN] is technicians_facts  # not read again
    ledger.set_roster_entry(SITE, TECHNICIAN, SUB, "鉄筋", "職長", date(2025, 6, 4), PRIME_STAFF)
    runner.catch_up()
    assert TECHNICIAN not in projection.work_records._facts
    live_equals_replay(ledger, settings, store)
