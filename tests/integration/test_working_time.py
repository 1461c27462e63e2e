"""Working time on both databases: time on site from taps, reported time and its corrections,
the overtime monitor (reported and estimated), and a site's closure rate."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import orjson

from ledger.application import Ledger
from ledger.clock import JST, FixedClock, clock_at
from ledger.domain.labour_rules import Limit, Verdict
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.queries import working_time as q
from projections.store import ReadStore
from tests.integration.world import (
    ADMIN,
    EMPLOYER_ADMIN,
    PRIME_STAFF,
    SITE,
    SUB,
    TECHNICIAN,
    register_world,
)

H = 60
CARD = "04A1B2C3"


def tap(sequence: int, at: datetime, direction: str) -> TapObservation:
    return TapObservation(f"GATE-1:{sequence}", "GATE-1", direction, at, card_id=CARD)


def record(ledger: Ledger, *taps: TapObservation) -> None:
    for observation in taps:
        with clock_at(observation.reader_time):
            ledger.record_taps([observation], ADMIN)


def caught_up(ledger: Ledger, settings: Settings) -> ReadStore:
    store = ReadStore(settings)
    LogFollower(ledger, store).catch_up()
    return store


def test_time_on_site_overnight_and_missing_exit(
    ledger: Ledger, settings: Settings, now: FixedClock
) -> None:
    register_world(ledger)
    record(
        ledger,
        tap(1, datetime(2025, 6, 2, 8, tzinfo=JST), "in"),
        tap(2, datetime(2025, 6, 2, 19, tzinfo=JST), "out"),
        # A night shift: it belongs to 3 June, the date it started.
        tap(3, datetime(2025, 6, 3, 20, tzinfo=JST), "in"),
        tap(4, datetime(2025, 6, 4, 5, tzinfo=JST), "out"),
        # No exit on the 5th: unknown, never guessed.
        tap(5, datetime(2025, 6, 5, 8, tzinfo=JST), "in"),
    )
    store = caught_up(ledger, settings)
    days = q.time_on_site(store, TECHNICIAN, date(2025, 6, 1), date(2025, 6, 30))
    assert [(d.work_date, d.minutes_on_site) for d in days] == [
        (date(2025, 6, 2), 11 * H), (date(2025, 6, 3), 9 * H), (date(2025, 6, 5), None)]
    # Nothing reported: the monitor estimates (11 h - 1 h break = 2 h over 8 h; 9 h - 1 h = 0).
    (month,) = q.monitor(store, SUB, date(2025, 6, 1), as_of=date(2025, 6, 30))
    assert month.estimated and month.unknown_exits == 1
    assert month.judgment.overtime == 2 * H and month.statutory == 16 * H
    assert month.agreement is None
    # The break is configured (LEDGER_WORKING_TIME_BREAK_MINUTES): none, 3 h + 1 h over 8 h.
    (no_break,) = q.monitor(store, SUB, date(2025, 6, 1), as_of=date(2025, 6, 30),
                            break_minutes=0)
    assert no_break.judgment.overtime == 4 * H and no_break.estimated


def test_reports_corrections_and_the_monitor(
    ledger: Ledger, settings: Settings, now: FixedClock
) -> None:
    register_world(ledger)
    ledger.conclude_overtime_agreement(SUB, date(2025, 4, 1), True, EMPLOYER_ADMIN)
    ledger.report_working_month(TECHNICIAN, date(2025, 4, 1), 160 * H, 95 * H, 0,
                                EMPLOYER_ADMIN)
    ledger.report_working_day(TECHNICIAN, date(2025, 5, 12), 8 * H, 4 * H, 0, EMPLOYER_ADMIN)
    ledger.report_working_day(TECHNICIAN, date(2025, 5, 13), 8 * H, 6 * H, 0,
                              EMPLOYER_ADMIN)
    store = caught_up(ledger, settings)  # a batch boundary between a report and its correction
    ledger.report_working_day(TECHNICIAN, date(2025, 5, 12), 8 * H, 5 * H, 0, EMPLOYER_ADMIN,
                              reason="日報の転記誤り")
    ledger.report_working_day(TECHNICIAN, date(2025, 5, 14), 0, 0, 6 * H, EMPLOYER_ADMIN)
    for day in range(15, 21):
        ledger.report_working_day(TECHNICIAN, date(2025, 5, day), 8 * H, 10 * H, 0,
                                  EMPLOYER_ADMIN)
    LogFollower(ledger, store).catch_up()
    with store.read() as tx:
        (row,) = tx.execute(
            "SELECT days_reported, day_overtime_minutes, day_holiday_minutes, positions "
            "FROM {working_time_months} WHERE month = %s", [date(2025, 5, 1)])
    assert tuple(row[:3]) == (9, 71 * H, 6 * H)
    assert len(orjson.loads(row[3])) == 10  # every report behind the figure, the correction too
    (may,) = q.monitor(store, SUB, date(2025, 5, 1), as_of=date(2025, 5, 31))
    assert not may.estimated
    assert may.judgment.overtime == 71 * H
    # April 95 h + May 71 h + 6 h holiday work = 172 h over 2 months: 86 h a month.
    assert may.judgment.limits[Limit.AVERAGE_80] is Verdict.VIOLATED
    assert may.judgment.limits[Limit.MONTH_100] is Verdict.OK
    (april,) = q.monitor(store, SUB, date(2025, 4, 1), as_of=date(2025, 5, 31))
    assert april.judgment.notice_owed and april.judgment.months_over_45 == 1
    # Disaster work in April lifts the average; the 720 h year still counts April.
    ledger.declare_disaster_work(SUB, date(2025, 4, 20), date(2025, 4, 25), "豪雨災害",
                                 EMPLOYER_ADMIN)
    LogFollower(ledger, store).catch_up()
    (may,) = q.monitor(store, SUB, date(2025, 5, 1), as_of=date(2025, 5, 31))
    assert may.judgment.limits[Limit.AVERAGE_80] is Verdict.OK
    assert may.judgment.year_overtime == 166 * H


def test_site_closures_with_an_excluded_period(
    ledger: Ledger, settings: Settings, now: FixedClock
) -> None:
    register_world(ledger)
    sequence = 0
    first = date(2025, 6, 2)  # a Monday; open Monday to Friday for 4 weeks
    for offset in range(28):
        day = first + timedelta(days=offset)
        if day.weekday() < 5:
            sequence += 1
            record(ledger, tap(sequence, datetime.combine(day, datetime.min.time(), JST)
                               + timedelta(hours=8), "in"))
    ledger.exclude_closure_period(SITE, date(2025, 6, 28), date(2025, 6, 29), "other",
                                  "工場製作のみ", PRIME_STAFF)
    ledger.set_rotating_shifts(SITE, True, PRIME_STAFF)
    store = caught_up(ledger, settings)
    report = q.site_closures(store, SITE, first, first + timedelta(days=27))
    assert (report.whole.days, report.whole.closed, report.whole.excluded) == (26, 6, 2)
    assert report.whole.meets is False  # 6 / 26 = 23 %
    assert sum(d.worker_days for d in report.days) == 20
    assert report.rotating_shifts
    (worker,) = report.workers
    assert worker.technician_id == TECHNICIAN and worker.blocks[0].closed == 6
    totals = q.site_time_totals(store, SITE, first, first + timedelta(days=27), None)
    assert [(t.employer_business_id, t.worker_days, t.unknown_exits) for t in totals] == [
        (SUB, 20, 20)]
