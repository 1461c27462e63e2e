"""日締め on SQLite and PostgreSQL: what a closed site-day lists, closing twice, and that closing
changes no tap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ledger.actors import SYSTEM, Actor, Role
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.settlement import DayClose, day_close_id
from ledger.errors import InvalidState, NotPermitted
from ledger.settings import Settings
from projections.jobs.day_close import close_day
from projections.jobs.queries import day_close_findings
from tests.integration.jobs_world import (
    ADMIN,
    CARDS,
    SITE,
    SITE_B,
    STAMP_SITE,
    SUB,
    T1,
    T2,
    World,
    jst,
)

DAY = date(2025, 6, 19)


@pytest.fixture
def world(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    with World.built(ledger, settings, now) as built:
        yield built


def closed(world: World, site: str) -> DayClose:
    found: object = world.ledger.repository.get(day_close_id(site, DAY))
    assert isinstance(found, DayClose)
    return found


def a_day_with_problems(world: World) -> None:
    world.work(SITE, T1, DAY)
    world.tap(SITE, CARDS[T2], "in", jst(2025, 6, 19, 8))  # never left
    world.tap(SITE, "FFFF0001", "in", jst(2025, 6, 19, 7, 50))  # a card nobody holds
    # SITE_B's reader sent nothing on the 19th; STAMP_SITE's reader did (the day before too)
    world.work(STAMP_SITE, T1, DAY, 18, 20)
    world.work(SITE_B, T1, date(2025, 6, 18))


def test_close_lists_missing_exits_unknown_cards_and_silent_readers(world: World) -> None:
    a_day_with_problems(world)
    world.clock.at = jst(2025, 6, 20, 2)

    counts = close_day(world.ledger, world.store, DAY, SYSTEM)

    assert counts == {"sites": 3, "closed": 3, "already_closed": 0, "missing_exits": 1,
                      "unknown_card_taps": 1, "silent_readers": 1}
    site_close = closed(world, SITE)
    assert [r["technician_id"] for r in site_close.missing_exits] == [T2]
    assert [t["card_id"] for t in site_close.unknown_card_taps] == ["FFFF0001"]
    assert site_close.silent_readers == []
    assert closed(world, SITE_B).silent_readers == ["GATE-B"]
    world.catch_up()
    findings = day_close_findings(world.store, SITE, DAY, DAY)
    assert sorted((f.kind, f.subject) for f in findings) == [
        ("missing_exit", T2), ("unknown_card", "GATE-1:4")]
    assert [(f.kind, f.subject) for f in day_close_findings(world.store, SITE_B, DAY, DAY)] == [
        ("silent_reader", "GATE-B")]


def test_closing_twice_records_nothing_new_and_no_tap_changes(world: World) -> None:
    a_day_with_problems(world)
    world.clock.at = jst(2025, 6, 20, 2)
    close_day(world.ledger, world.store, DAY, SYSTEM)
    world.catch_up()
    with world.store.read() as tx:
        taps_before = tx.execute("SELECT * FROM {tap_facts} ORDER BY tap_id")
    position = world.event_count()

    world.clock.at = jst(2025, 6, 20, 9)
    counts = close_day(world.ledger, world.store, DAY, SYSTEM)

    assert counts["closed"] == 0 and counts["already_closed"] == 3
    assert world.event_count() == position
    world.catch_up()
    with world.store.read() as tx:
        assert tx.execute("SELECT * FROM {tap_facts} ORDER BY tap_id") == taps_before


def test_an_exit_after_the_close_still_closes_the_record(world: World) -> None:
    world.tap(SITE, CARDS[T2], "in", jst(2025, 6, 19, 20))  # a night shift
    world.clock.at = jst(2025, 6, 20, 2)
    close_day(world.ledger, world.store, DAY, SYSTEM)
    world.tap(SITE, CARDS[T2], "out", jst(2025, 6, 20, 5))
    world.catch_up()
    with world.store.read() as tx:
        rows = tx.execute("SELECT work_date, flags FROM {work_records} WHERE technician_id = %s",
                          [T2])
    assert [(str(d), flags) for d, flags in rows] == [("2025-06-19", "[]")]
    assert [f.kind for f in day_close_findings(world.store, SITE, DAY, DAY)] == ["missing_exit"]


def test_an_unknown_card_resolved_by_an_approved_entry_is_not_listed(world: World) -> None:
    world.ledger.register_worker("44444444444444", "遅れて登録", ADMIN)
    world.ledger.join_employer("44444444444444", SUB, date(2020, 4, 1), True, ADMIN)
    world.tap(SITE, "0A000004", "in", jst(2025, 6, 19, 8))
    world.clock.at = jst(2025, 6, 19, 12)
    world.ledger.issue_card("0A000004", "44444444444444", ADMIN)
    entry = world.ledger.request_manual_entry(
        "44444444444444", SITE, DAY, SUB, "鉄筋", "一般", "配筋", Actor(Role.EMPLOYER, SUB))
    world.ledger.approve(entry, Actor(Role.PRIME_CONTRACTOR, "100"))
    world.clock.at = jst(2025, 6, 20, 2)

    close_day(world.ledger, world.store, DAY, SYSTEM)

    assert closed(world, SITE).unknown_card_taps == []


def test_a_day_not_over_cannot_be_closed(world: World) -> None:
    world.clock.at = jst(2025, 6, 19, 23, 59)
    with pytest.raises(InvalidState) as refused:
        close_day(world.ledger, world.store, DAY, SYSTEM)
    assert refused.value.rule == "work_date.not_over"


def test_only_the_system_or_an_admin_closes_days(world: World) -> None:
    world.clock.at = jst(2025, 6, 20, 2)
    with pytest.raises(NotPermitted) as refused:
        close_day(world.ledger, world.store, DAY, Actor(Role.PRIME_CONTRACTOR, "100"))
    assert refused.value.rule == "job.actor"


def test_a_reader_registered_during_the_day_is_not_called_silent(world: World) -> None:
    world.clock.at = jst(2025, 6, 19, 12)
    world.ledger.register_reader("GATE-1B", SITE, "auto", ADMIN)
    world.clock.at = jst(2025, 6, 20, 2)
    close_day(world.ledger, world.store, DAY, SYSTEM)
    assert closed(world, SITE).silent_readers == ["GATE-1"]


def unknown_tap_id(world: World, card_id: str) -> str:
    world.catch_up()
    with world.store.read() as tx:
        ((tap_id,),) = tx.execute("SELECT tap_id FROM {site_exceptions} WHERE card_id = %s",
                                  [card_id])
    return str(tap_id)


def test_an_unknown_card_the_staff_assigned_is_not_listed(world: World) -> None:
    """What staff must look at: a tap they assigned to a worker is decided, whether before the
    close (left out of it) or after (left out of the findings; the tap shows the decision)."""
    world.tap(SITE, "FFFF0001", "in", jst(2025, 6, 19, 7, 50))
    world.tap(SITE, "FFFF0002", "in", jst(2025, 6, 19, 7, 55))
    world.tap(SITE, "FFFF0003", "in", jst(2025, 6, 19, 8))
    staff = Actor(Role.PRIME_CONTRACTOR, "100")
    world.clock.at = jst(2025, 6, 19, 12)
    world.ledger.assign_unknown_card(SITE, "FFFF0001", unknown_tap_id(world, "FFFF0001"), T2,
                                     "忘れたカードの代わりに借りたもの", staff)
    world.clock.at = jst(2025, 6, 20, 2)

    counts = close_day(world.ledger, world.store, DAY, SYSTEM)

    assert counts["unknown_card_taps"] == 2
    assert [t["card_id"] for t in closed(world, SITE).unknown_card_taps] == [
        "FFFF0002", "FFFF0003"]
    later = unknown_tap_id(world, "FFFF0002")
    world.clock.at = jst(2025, 6, 20, 9)
    world.ledger.assign_unknown_card(SITE, "FFFF0002", later, T1, "予備カード", staff)
    world.catch_up()
    assert [(f.kind, f.detail["card_id"]) for f in day_close_findings(world.store, SITE, DAY, DAY)
            if f.kind == "unknown_card"] == [("unknown_card", "FFFF0003")]
    assert [t["card_id"] for t in closed(world, SITE).unknown_card_taps] == [
        "FFFF0002", "FFFF0003"]  # the close itself stays as recorded
    with world.store.read() as tx:
        assert tx.execute("SELECT resolution IS NOT NULL FROM {site_exceptions} "
                          "WHERE tap_id = %s", [later]) in ([(True,)], [(1,)])
