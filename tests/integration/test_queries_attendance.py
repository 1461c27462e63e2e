"""出面 from real taps: by employer and subcontract tier, on site now (overnight included), missing
exits, and the exceptions list (unknown card, revoked card, unregistered reader, clock skew).
The clock stands at 2025-06-20 10:00 JST."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.settings import Settings
from projections.queries import (
    missing_exits,
    on_site_now,
    site_attendance,
    site_exceptions,
    unregistered_readers,
)
from projections.records import RecordStatus
from tests.integration.queries_world import (
    ADMIN,
    CARD,
    CARD_2,
    CARD_3,
    PRIME,
    PRIME_STAFF,
    SITE,
    SITE_B,
    SUB,
    SUB2,
    TECH_2,
    TECH_3,
    TECHNICIAN,
    Scene,
    jst,
)

JUNE = (date(2025, 6, 1), date(2025, 6, 30))


@pytest.fixture
def scene(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[Scene]:
    with Scene.built(ledger, settings, now) as built:
        ledger.register_business(SUB2, "山本工業", ADMIN)
        ledger.add_subcontract(SITE, SUB2, SUB, ADMIN)
        built.worker(TECH_2, SUB2, CARD_2)
        built.roster(SITE, TECH_2, SUB2)
        built.worker(TECH_3, PRIME, CARD_3)
        built.roster(SITE, TECH_3, PRIME, trade="土工", position="職長")
        built.open_site(SITE_B, PRIME, "GATE-B")
        yield built


def test_attendance_lists_each_worker_by_tier_and_employer(scene: Scene) -> None:
    scene.shift("GATE-1", jst(2025, 6, 18, 8))
    scene.shift("GATE-1", jst(2025, 6, 18, 7, 30), card_id=CARD_2)
    scene.shift("GATE-1", jst(2025, 6, 18, 9), card_id=CARD_3)
    scene.shift("GATE-1", jst(2025, 6, 17, 8), card_id=CARD_3)  # another day
    scene.shift("GATE-B", jst(2025, 6, 18, 8), card_id=CARD_3)  # another site
    with scene.read() as tx:
        attendance = site_attendance(tx, SITE, date(2025, 6, 18))
    assert [(row.tier, row.employer_business_id, row.technician_id) for row in attendance.rows] == [
        (0, PRIME, TECH_3), (1, SUB, TECHNICIAN), (2, SUB2, TECH_2)]
    assert attendance.headcount == 3
    assert {tier: len(rows) for tier, rows in attendance.by_tier.items()} == {0: 1, 1: 1, 2: 1}
    tech_2 = attendance.by_employer[SUB2][0]
    assert (tech_2.parent_business_id, tech_2.employer_name) == (SUB, "山本工業")
    assert (tech_2.first_entry, tech_2.last_exit) == (jst(2025, 6, 18, 7, 30),
                                                     jst(2025, 6, 18, 16, 30))
    assert attendance.by_employer[PRIME][0].position == "職長"


def test_attendance_shows_a_pending_manual_entry_but_not_a_rejected_one(
    scene: Scene, ledger: Ledger,
) -> None:
    scene.manual_entry(date(2025, 6, 18))
    ledger.reject(scene.manual_entry(date(2025, 6, 18), technician_id=TECH_2, employer=SUB2),
                  "入場記録なし", PRIME_STAFF)
    with scene.read() as tx:
        rows = site_attendance(tx, SITE, date(2025, 6, 18)).rows
    assert [(row.technician_id, row.status) for row in rows] == [
        (TECHNICIAN, RecordStatus.PENDING)]


def test_on_site_now_is_todays_open_entries_and_an_overnight_shift_still_open(
    scene: Scene,
) -> None:
    scene.tap("GATE-1", "in", jst(2025, 6, 20, 8))  # open: on site
    scene.shift("GATE-1", jst(2025, 6, 20, 7), hours=2, card_id=CARD_2)  # left at 09:00
    scene.tap("GATE-1", "in", jst(2025, 6, 19, 22), card_id=CARD_3)  # night shift, still on
    scene.tap("GATE-1", "in", jst(2025, 6, 16, 8), card_id=CARD_2)  # never left: not "now"
    with scene.read() as tx:
        present = on_site_now(tx, SITE)
        later = on_site_now(tx, SITE, now=jst(2025, 6, 20, 22, 30))
    assert [(row.technician_id, row.work_date) for row in present] == [
        (TECH_3, date(2025, 6, 19)), (TECHNICIAN, date(2025, 6, 20))]
    assert [row.technician_id for row in later] == [TECHNICIAN]  # the night shift's 24 h passed


def test_missing_exits_are_past_open_entries_no_exit_can_close_any_more(scene: Scene) -> None:
    scene.tap("GATE-1", "in", jst(2025, 6, 16, 8))  # missing exit
    scene.shift("GATE-1", jst(2025, 6, 17, 8), card_id=CARD_2)  # closed
    scene.tap("GATE-1", "in", jst(2025, 6, 19, 22), card_id=CARD_3)  # may still be closed
    scene.tap("GATE-1", "in", jst(2025, 6, 20, 8), card_id=CARD_2)  # today: on site
    with scene.read() as tx:
        missing = missing_exits(tx, SITE, *JUNE)
    assert [(row.technician_id, row.work_date) for row in missing] == [
        (TECHNICIAN, date(2025, 6, 16))]
    assert "missing_exit" in missing[0].flags


def test_exceptions_list_unknown_and_revoked_cards_and_clock_skew(
    scene: Scene, ledger: Ledger, now: FixedClock,
) -> None:
    unknown = scene.tap("GATE-1", "in", jst(2025, 6, 18, 8), card_id="DEADBEEF")
    scene.tap("GATE-1", "in", jst(2025, 6, 18, 8), card_id=CARD_2)  # before revocation
    ledger.revoke_card(CARD_2, "紛失", ADMIN)
    revoked = scene.tap("GATE-1", "in", jst(2025, 6, 19, 8), card_id=CARD_2)
    skewed = scene.tap("GATE-1", "in", now.at + timedelta(hours=1), card_id=CARD,
                       received_at=now.at)
    scene.tap("GATE-B", "in", jst(2025, 6, 18, 8), card_id="CAFEF00D")  # another site's
    with scene.read() as tx:
        listed = site_exceptions(tx, SITE, *JUNE)
        attendance_18 = site_attendance(tx, SITE, date(2025, 6, 18))
        attendance_19 = site_attendance(tx, SITE, date(2025, 6, 19))
    assert [(e.tap_id, e.kinds, e.technician_id, e.position) for e in listed] == [
        (unknown.tap_id, ("unknown_card",), None, unknown.position),
        (revoked.tap_id, ("revoked_card",), TECH_2, revoked.position),
        (skewed.tap_id, ("clock_skew",), TECHNICIAN, skewed.position)]
    assert [row.technician_id for row in attendance_18.rows] == [TECH_2]
    assert attendance_19.rows == ()


def test_unregistered_readers_are_listed_per_reader_for_admins(scene: Scene) -> None:
    first = scene.tap("GATE-X", "in", jst(2025, 6, 18, 8))
    last = scene.tap("GATE-X", "out", jst(2025, 6, 18, 17))
    scene.tap("GATE-Y", "in", jst(2025, 6, 19, 8), card_id=CARD_2)
    scene.tap("GATE-X", "in", jst(2025, 5, 31, 8))  # outside the range asked for
    with scene.read() as tx:
        readers = unregistered_readers(tx, *JUNE)
        on_site = site_exceptions(tx, SITE, *JUNE)
        attendance = site_attendance(tx, SITE, date(2025, 6, 18))
    assert [(r.reader_id, len(r.taps)) for r in readers] == [("GATE-X", 2), ("GATE-Y", 1)]
    assert [t.tap_id for t in readers[0].taps] == [first.tap_id, last.tap_id]
    assert readers[0].first_tap_at == jst(2025, 6, 18, 8)
    assert readers[0].taps[0].kinds == ("unregistered_reader",)
    assert on_site == [] and attendance.rows == ()


def test_an_entry_from_a_reader_clock_ahead_of_the_server_is_on_site_now(
    scene: Scene, now: FixedClock,
) -> None:
    scene.tap("GATE-1", "in", now.at + timedelta(minutes=20),  # reader clock 20 minutes fast
              received_at=now.at)
    with scene.read() as tx:
        present = on_site_now(tx, SITE)
        listed = site_exceptions(tx, SITE, *JUNE)
    assert [row.technician_id for row in present] == [TECHNICIAN]
    assert "clock_skew" in present[0].flags
    assert [e.kinds for e in listed] == [("clock_skew",)]
