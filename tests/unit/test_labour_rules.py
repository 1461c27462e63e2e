"""The overtime caps and 4週8休 at their boundaries (ledger/domain/labour_rules.py)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from ledger.domain.labour_rules import (
    Agreement,
    Limit,
    MonthFigures,
    Verdict,
    add_months,
    agreement_year_start,
    closures,
    days_off_by_four_weeks,
    estimate_day,
    expand_periods,
    judge_month,
    meets_four_weeks_eight_days,
    worst,
)

H = 60
APRIL = date(2025, 4, 1)
SPECIAL = Agreement(APRIL, special_clause=True)
PLAIN = Agreement(APRIL, special_clause=False)


def months(start: date, *figures: MonthFigures) -> dict[date, MonthFigures]:
    return {add_months(start, i): f for i, f in enumerate(figures)}


# -- 45 h a month and 360 h a year, without the special clause -----------------------------------

def test_45_hours_is_within_and_one_minute_more_violates() -> None:
    assert judge_month({APRIL: MonthFigures(45 * H)}, APRIL, PLAIN).limits[
        Limit.MONTH_45] is Verdict.OK
    assert judge_month({APRIL: MonthFigures(45 * H + 1)}, APRIL, PLAIN).limits[
        Limit.MONTH_45] is Verdict.VIOLATED


def test_holiday_work_does_not_count_towards_45_hours() -> None:
    judged = judge_month({APRIL: MonthFigures(45 * H, holiday=30 * H)}, APRIL, PLAIN)
    assert judged.limits[Limit.MONTH_45] is Verdict.OK
    assert judged.total == 75 * H


def test_360_hours_a_year_at_and_over() -> None:
    history = months(APRIL, *[MonthFigures(30 * H)] * 12)  # 360 h
    assert judge_month(history, add_months(APRIL, 11), PLAIN).limits[
        Limit.YEAR_360] is Verdict.OK
    history[add_months(APRIL, 11)] = MonthFigures(30 * H + 1)
    judged = judge_month(history, add_months(APRIL, 11), PLAIN)
    assert judged.year_overtime == 360 * H + 1
    assert judged.limits[Limit.YEAR_360] is Verdict.VIOLATED


def test_plain_agreement_has_no_special_clause_limits() -> None:
    limits = judge_month({}, APRIL, PLAIN).limits
    assert Limit.YEAR_720 not in limits and Limit.MONTHS_OVER_45 not in limits
    assert set(limits) == {Limit.MONTH_45, Limit.YEAR_360, Limit.MONTH_100, Limit.AVERAGE_80}


# -- with the special clause ---------------------------------------------------------------------

def test_720_hours_ok_and_721_violated() -> None:
    # 6 months of 75 h and 6 of 45 h: 720 h, with six months over 45 h.
    figures = [MonthFigures(75 * H)] * 6 + [MonthFigures(45 * H)] * 6
    history = months(APRIL, *figures)
    last = add_months(APRIL, 11)
    judged = judge_month(history, last, SPECIAL)
    assert judged.year_overtime == 720 * H
    assert judged.limits[Limit.YEAR_720] is Verdict.OK
    history[last] = MonthFigures(46 * H)  # 721 h, and a 7th month over 45 h
    judged = judge_month(history, last, SPECIAL)
    assert judged.year_overtime == 721 * H
    assert judged.limits[Limit.YEAR_720] is Verdict.VIOLATED


def test_720_excludes_holiday_work() -> None:
    history = months(APRIL, *[MonthFigures(60 * H, holiday=10 * H)] * 12)
    judged = judge_month(history, add_months(APRIL, 11), SPECIAL)
    assert judged.year_overtime == 720 * H
    assert judged.limits[Limit.YEAR_720] is Verdict.OK


def test_100_hours_violates_and_99_and_a_half_does_not() -> None:
    at_100 = judge_month({APRIL: MonthFigures(80 * H, holiday=20 * H)}, APRIL, SPECIAL)
    assert at_100.limits[Limit.MONTH_100] is Verdict.VIOLATED  # must be *under* 100 h
    at_99_5 = judge_month({APRIL: MonthFigures(79 * H + 30, holiday=20 * H)}, APRIL, SPECIAL)
    assert at_99_5.total == 5970
    assert at_99_5.limits[Limit.MONTH_100] is Verdict.OK


def test_an_average_of_exactly_80_hours_is_within() -> None:
    history = months(APRIL, MonthFigures(70 * H, holiday=20 * H), MonthFigures(70 * H))
    judged = judge_month(history, add_months(APRIL, 1), SPECIAL)
    assert judged.averages[2] == Fraction(80 * H)
    assert judged.limits[Limit.AVERAGE_80] is Verdict.OK


def test_an_average_one_minute_over_80_hours_violates() -> None:
    history = months(APRIL, MonthFigures(70 * H, holiday=20 * H), MonthFigures(70 * H + 1))
    judged = judge_month(history, add_months(APRIL, 1), SPECIAL)
    assert judged.averages[2] > 80 * H
    assert judged.limits[Limit.AVERAGE_80] is Verdict.VIOLATED


@pytest.mark.parametrize("length", [3, 4, 5, 6])
def test_every_window_from_2_to_6_months_is_checked(length: int) -> None:
    # The oldest month of the window carries the excess; shorter windows stay under 80 h.
    figures = [MonthFigures(60 * H)] * length
    excess = 80 * H * length - 60 * H * (length - 1) + 1
    figures[0] = MonthFigures(excess)
    history = months(APRIL, *figures)
    judged = judge_month(history, add_months(APRIL, length - 1), SPECIAL)
    assert judged.averages[length] > 80 * H
    assert all(judged.averages[n] <= 80 * H for n in range(2, length))
    assert judged.limits[Limit.AVERAGE_80] is Verdict.VIOLATED


def test_the_6th_month_over_45_hours_is_allowed_and_the_7th_is_not() -> None:
    over = MonthFigures(46 * H)
    sixth = judge_month(months(APRIL, *[over] * 6), add_months(APRIL, 5), SPECIAL)
    assert sixth.months_over_45 == 6
    assert sixth.limits[Limit.MONTHS_OVER_45] is Verdict.OK
    seventh = judge_month(months(APRIL, *[over] * 7), add_months(APRIL, 6), SPECIAL)
    assert seventh.months_over_45 == 7
    assert seventh.limits[Limit.MONTHS_OVER_45] is Verdict.VIOLATED


def test_exactly_45_hours_is_not_a_month_over_45() -> None:
    judged = judge_month(months(APRIL, *[MonthFigures(45 * H)] * 8), add_months(APRIL, 7),
                         SPECIAL)
    assert judged.months_over_45 == 0


# -- windows and the agreement year ----------------------------------------------------------------

def test_agreement_year_starts_at_the_agreement_month() -> None:
    assert agreement_year_start(SPECIAL, date(2026, 3, 1)) == date(2025, 4, 1)
    assert agreement_year_start(SPECIAL, date(2026, 4, 1)) == date(2026, 4, 1)
    assert agreement_year_start(SPECIAL, date(2025, 1, 1)) == date(2024, 4, 1)


def test_averages_cross_the_agreement_year_but_the_year_count_does_not() -> None:
    # March (the last month of the 2025 year) and April (the first of 2026).
    history = {date(2026, 3, 1): MonthFigures(95 * H), date(2026, 4, 1): MonthFigures(66 * H)}
    for m in range(4, 12):  # six months over 45 h in the year that ended in March
        history[date(2025, m, 1)] = MonthFigures(46 * H) if m < 9 else MonthFigures(0)
    april = judge_month(history, date(2026, 4, 1), SPECIAL)
    assert april.averages[2] == Fraction(161 * H, 2)  # 80.5 h: March counts
    assert april.limits[Limit.AVERAGE_80] is Verdict.VIOLATED
    assert april.year_start == date(2026, 4, 1)
    assert april.year_overtime == 66 * H  # March does not
    assert april.months_over_45 == 1


# -- the disaster-work exception -----------------------------------------------------------------

def test_disaster_work_lifts_the_100_hour_month() -> None:
    judged = judge_month({APRIL: MonthFigures(100 * H, holiday=20 * H, disaster=True)}, APRIL,
                         SPECIAL)
    assert Limit.MONTH_100 not in judged.limits
    assert Limit.MONTH_100 in judged.lifted
    assert judged.limits[Limit.AVERAGE_80] is Verdict.OK
    assert judged.notice_owed  # the 80 h notice is owed whatever the cause


def test_disaster_months_are_left_out_of_the_averages() -> None:
    history = months(APRIL, MonthFigures(120 * H, disaster=True), MonthFigures(70 * H))
    judged = judge_month(history, add_months(APRIL, 1), SPECIAL)
    assert judged.averages[2] == Fraction(35 * H)
    assert judged.limits[Limit.AVERAGE_80] is Verdict.OK
    assert Limit.AVERAGE_80 in judged.lifted
    without = judge_month(months(APRIL, MonthFigures(120 * H), MonthFigures(70 * H)),
                          add_months(APRIL, 1), SPECIAL)
    assert without.limits[Limit.AVERAGE_80] is Verdict.VIOLATED


def test_disaster_work_does_not_lift_720_hours_or_the_6_months() -> None:
    figures = [MonthFigures(110 * H, disaster=True)] * 7
    judged = judge_month(months(APRIL, *figures), add_months(APRIL, 6), SPECIAL)
    assert judged.limits[Limit.YEAR_720] is Verdict.VIOLATED  # 770 h
    assert judged.limits[Limit.MONTHS_OVER_45] is Verdict.VIOLATED
    assert Limit.MONTH_100 not in judged.limits


# -- the 80 h notice and the pace --------------------------------------------------------------

def test_the_notice_is_owed_over_80_hours_not_at_80() -> None:
    assert not judge_month({APRIL: MonthFigures(80 * H)}, APRIL, SPECIAL).notice_owed
    assert judge_month({APRIL: MonthFigures(80 * H + 1)}, APRIL, SPECIAL).notice_owed


def test_a_month_in_progress_is_at_risk_at_its_pace() -> None:
    # 30 h by the 10th of a 30-day month: 90 h at this pace.
    judged = judge_month({APRIL: MonthFigures(30 * H)}, APRIL, PLAIN, as_of=date(2025, 4, 10))
    assert judged.limits[Limit.MONTH_45] is Verdict.AT_RISK
    assert judged.limits[Limit.MONTH_100] is Verdict.OK  # 90 h < 100 h
    done = judge_month({APRIL: MonthFigures(30 * H)}, APRIL, PLAIN, as_of=date(2025, 5, 10))
    assert done.limits[Limit.MONTH_45] is Verdict.OK


def test_a_year_is_at_risk_at_its_pace() -> None:
    history = months(APRIL, MonthFigures(70 * H), MonthFigures(35 * H))
    judged = judge_month(history, add_months(APRIL, 1), SPECIAL, as_of=date(2025, 5, 31))
    assert judged.limits[Limit.YEAR_720] is Verdict.OK  # 105 h in 2 months: 630 h a year
    history[add_months(APRIL, 1)] = MonthFigures(60 * H)
    judged = judge_month(history, add_months(APRIL, 1), SPECIAL, as_of=date(2025, 5, 15))
    assert judged.limits[Limit.YEAR_720] is Verdict.AT_RISK  # 70 + 120 h: 1,140 h a year


def test_worst_of_verdicts() -> None:
    assert worst([Verdict.OK, Verdict.AT_RISK]) is Verdict.AT_RISK
    assert worst([]) is Verdict.OK


def test_estimate_from_time_on_site() -> None:
    assert estimate_day(10 * H, 60) == (8 * H, 1 * H)
    assert estimate_day(8 * H, 60) == (7 * H, 0)
    assert estimate_day(30, 60) == (0, 0)


# -- 週休2日 -------------------------------------------------------------------------------------

def test_eight_of_28_days_meets_4w8_and_seven_does_not() -> None:
    assert meets_four_weeks_eight_days(8, 28)
    assert not meets_four_weeks_eight_days(7, 28)


def test_the_closure_rate_boundary_is_28_5_percent_inclusive() -> None:
    assert meets_four_weeks_eight_days(57, 200)  # exactly 28.5 %
    assert not meets_four_weeks_eight_days(56, 200)  # 28.0 %
    assert not meets_four_weeks_eight_days(0, 0)


def test_closures_whole_period_and_by_month_with_excluded_days() -> None:
    first, last = date(2025, 12, 1), date(2026, 1, 31)
    year_end = expand_periods([(date(2025, 12, 29), date(2026, 1, 3))], first, last)
    # Open every day but Sundays and Saturdays of December; January open but 8 days.
    open_days = {date(2025, 12, d) for d in range(1, 32) if date(2025, 12, d).weekday() < 5}
    open_days |= {date(2026, 1, d) for d in range(1, 32) if d > 8}
    whole, by_month = closures(first, last, open_days, year_end)
    assert whole.excluded == 6
    december, january = by_month
    assert (december.days, december.excluded) == (28, 3)
    assert december.closed == 8 and december.meets  # 8 weekend days of 1–28 Dec
    assert (january.days, january.excluded, january.closed) == (28, 3, 5)
    assert january.meets is False
    assert whole.days == december.days + january.days
    assert whole.closed == 13 and whole.meets is False  # 13 / 56 = 23 %


def test_a_fully_excluded_month_has_no_verdict() -> None:
    whole, (month,) = closures(date(2026, 1, 1), date(2026, 1, 3), [],
                               [date(2026, 1, d) for d in (1, 2, 3)])
    assert month.meets is None and month.rate is None and whole.meets is None


def test_rotating_shift_days_off_per_4_weeks() -> None:
    first = date(2025, 6, 2)
    worked = {date(2025, 6, d) for d in range(2, 30) if d % 7 not in (0, 1)}
    worked |= {date(2025, 6, 30)} | {date(2025, 7, d) for d in range(1, 28)}
    blocks = days_off_by_four_weeks(first, date(2025, 7, 27), worked)
    assert [(b.days, b.closed, b.meets) for b in blocks] == [(28, 8, True), (28, 0, False)]
