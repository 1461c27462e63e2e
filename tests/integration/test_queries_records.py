"""Work records and career summaries (就業日数 / 就業履歴数) through real taps and requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ledger.actors import SYSTEM
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.taps import Direction, TapObservation
from ledger.ids import CardId, ReaderId, TapId
from ledger.settings import Settings
from projections.queries import DayCount, career_records, career_summary
from projections.records import RecordSource, RecordStatus
from tests.integration.queries_world import (
    ADMIN,
    CARD,
    OTHER,
    PRIME_STAFF,
    SITE,
    SITE_B,
    SUB,
    TECHNICIAN,
    Scene,
    jst,
)

JUNE = (date(2025, 6, 1), date(2025, 6, 30))


@pytest.fixture
def scene(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[Scene]:
    with Scene.built(ledger, settings, now) as built:
        built.open_site(SITE_B, "100", "GATE-B")
        built.roster(SITE_B, TECHNICIAN, SUB, trade="とび")
        yield built


def test_two_sites_on_one_day_are_one_work_day_and_two_records(scene: Scene) -> None:
    scene.shift("GATE-1", jst(2025, 6, 2, 8), hours=4)
    scene.shift("GATE-B", jst(2025, 6, 2, 13), hours=4)
    with scene.read() as tx:
        summary = career_summary(tx, TECHNICIAN, *JUNE)
        records = career_records(tx, TECHNICIAN, *JUNE)
    assert summary.total == DayCount(work_days=1, record_count=2)
    assert summary.by_site == {SITE: DayCount(1, 1), SITE_B: DayCount(1, 1)}
    assert summary.by_trade == {"とび": DayCount(1, 1), "鉄筋": DayCount(1, 1)}
    assert summary.by_employer == {SUB: DayCount(1, 2)}
    assert [(r.site_id, r.work_date, r.minutes_on_site) for r in records] == [
        (SITE, date(2025, 6, 2), 240), (SITE_B, date(2025, 6, 2), 240)]


def test_repeated_taps_make_one_record(scene: Scene, ledger: Ledger) -> None:
    scene.tap("GATE-1", "in", jst(2025, 6, 3, 7, 55))
    scene.tap("GATE-1", "in", jst(2025, 6, 3, 7, 56))  # tapped twice at the gate
    scene.tap("GATE-1", "out", jst(2025, 6, 3, 12))  # lunch
    scene.tap("GATE-1", "in", jst(2025, 6, 3, 13))
    last = scene.tap("GATE-1", "out", jst(2025, 6, 3, 17, 30))
    observation = TapObservation(TapId(last.tap_id), ReaderId("GATE-1"), Direction.OUT,
                                 jst(2025, 6, 3, 17, 30), card_id=CardId(CARD))
    [again] = ledger.record_taps([observation], ADMIN)  # the reader uploads it a second time
    assert again.status == "duplicate"
    with scene.read() as tx:
        records = career_records(tx, TECHNICIAN, *JUNE)
        summary = career_summary(tx, TECHNICIAN, *JUNE)
    assert len(records) == 1
    record = records[0]
    assert record.first_entry == jst(2025, 6, 3, 7, 55)
    assert record.last_exit == jst(2025, 6, 3, 17, 30)
    assert record.minutes_on_site == 9 * 60 + 35
    assert record.source is RecordSource.CARD and record.status is RecordStatus.COUNTED
    assert len(record.event_positions) == 5 and last.position in record.event_positions
    assert (record.trade, record.position, record.employer_business_id) == ("鉄筋", "一般", SUB)
    assert summary.total == DayCount(1, 1)


def test_overnight_shift_counts_on_its_start_date(scene: Scene) -> None:
    scene.tap("GATE-1", "in", jst(2025, 6, 5, 21))
    scene.tap("GATE-1", "out", jst(2025, 6, 6, 6))
    with scene.read() as tx:
        records = career_records(tx, TECHNICIAN, *JUNE)
        june_6 = career_summary(tx, TECHNICIAN, date(2025, 6, 6), date(2025, 6, 6))
    assert [(r.work_date, r.minutes_on_site, r.flags) for r in records] == [
        (date(2025, 6, 5), 9 * 60, ())]
    assert june_6.total == DayCount(0, 0)


def test_manual_entry_counts_nothing_while_pending_and_one_day_once_approved(
    scene: Scene, ledger: Ledger,
) -> None:
    request_id = scene.manual_entry(date(2025, 6, 9))
    with scene.read() as tx:
        pending = career_records(tx, TECHNICIAN, *JUNE)
        assert career_summary(tx, TECHNICIAN, *JUNE).total == DayCount(0, 0)
    assert [(r.status, r.source) for r in pending] == [(RecordStatus.PENDING, RecordSource.MANUAL)]
    ledger.approve(request_id, PRIME_STAFF)
    with scene.read() as tx:
        approved = career_records(tx, TECHNICIAN, *JUNE)
        summary = career_summary(tx, TECHNICIAN, *JUNE)
    assert summary.total == DayCount(1, 1)
    assert [(r.status, r.source, r.first_entry) for r in approved] == [
        (RecordStatus.COUNTED, RecordSource.MANUAL, jst(2025, 6, 9, 8))]
    assert len(approved[0].event_positions) == 2  # requested, approved


def test_rejected_manual_entry_is_listed_and_counts_nothing(scene: Scene, ledger: Ledger) -> None:
    ledger.reject(scene.manual_entry(date(2025, 6, 10)), "現場にいなかった", PRIME_STAFF)
    with scene.read() as tx:
        records = career_records(tx, TECHNICIAN, *JUNE)
        summary = career_summary(tx, TECHNICIAN, *JUNE)
    assert [r.status for r in records] == [RecordStatus.REJECTED]
    assert summary.total == DayCount(0, 0) and summary.by_site == {}


def test_date_range_is_inclusive_at_both_ends(scene: Scene) -> None:
    for day in (date(2025, 5, 30), date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 19)):
        scene.shift("GATE-1", jst(day.year, day.month, day.day, 8))
    with scene.read() as tx:
        inner = career_summary(tx, TECHNICIAN, date(2025, 6, 1), date(2025, 6, 19))
        dates = [r.work_date for r in career_records(tx, TECHNICIAN, date(2025, 5, 30),
                                                     date(2025, 6, 1))]
    assert inner.total == DayCount(3, 3)
    assert dates == [date(2025, 5, 30), date(2025, 6, 1)]


def test_summary_breaks_down_by_employer_after_a_change_of_roster(
    scene: Scene, ledger: Ledger,
) -> None:
    scene.shift("GATE-1", jst(2025, 6, 2, 8))
    ledger.add_subcontract(SITE, OTHER, "100", PRIME_STAFF)
    ledger.join_employer(TECHNICIAN, OTHER, date(2025, 6, 1), False, ADMIN)
    scene.roster(SITE, TECHNICIAN, OTHER, trade="電気工事")
    scene.shift("GATE-1", jst(2025, 6, 3, 8))
    scene.shift("GATE-1", jst(2025, 6, 4, 8))
    with scene.read() as tx:
        summary = career_summary(tx, TECHNICIAN, *JUNE)
    assert summary.by_employer == {OTHER: DayCount(2, 2), SUB: DayCount(1, 1)}
    assert summary.by_trade == {"鉄筋": DayCount(1, 1), "電気工事": DayCount(2, 2)}
    assert summary.total == DayCount(3, 3)


def test_an_expired_manual_entry_is_listed_and_counts_nothing(
    scene: Scene, ledger: Ledger, now: FixedClock,
) -> None:
    request_id = scene.manual_entry(date(2025, 5, 12))
    now.at = jst(2025, 7, 1)  # the deadline: the end of June, JST
    ledger.expire(request_id, SYSTEM)
    with scene.read() as tx:
        records = career_records(tx, TECHNICIAN, date(2025, 5, 1), date(2025, 5, 31))
        summary = career_summary(tx, TECHNICIAN, date(2025, 5, 1), date(2025, 5, 31))
    assert [(r.status, r.source) for r in records] == [(RecordStatus.EXPIRED, RecordSource.MANUAL)]
    assert summary.total == DayCount(0, 0)
