"""労働時間の上限規制 and 週休2日: the rules as pure functions (no I/O, no clock).

Figures are whole minutes, so 99.5 h (5,970 min) and 100 h (6,000 min) never meet in a float.
Sources: 労働基準法 36条 (construction under the caps since 2024-04), 労働安全衛生規則 52条の2
(the 80 h notice), MLIT 週休2日 (4週8休 = closed days ≥ 28.5 % of the period); DESIGN.md §2.

Project decisions, where the sources leave the ledger a choice:
- The 100 h month and the 2–6 month 80 h average are applied whether or not the agreement has
  a special clause: 労基法 36条6項 sets them for every worker under a 36 agreement, and without
  the clause holiday work can still reach them. The issue lists them under the clause; the
  statute is the source we follow.
- The averages run over consecutive calendar months across agreement years (MHLW's reading);
  the 720 h year and the "more than 45 h in at most 6 months" count run per agreement year.
- A month that overlaps a disaster-work period (災害時の臨時の必要, 労基法 33条) is lifted from
  the 100 h check, and its hours are left out of every 2–6 month average that contains it: the
  reports do not split disaster work from other work, so the month's hours are taken as disaster
  work. The 720 h year and the 6-month count still hold.
- "At risk": the month that contains the as-of date is projected at its pace so far
  (figure × days in month ÷ days elapsed); the agreement year at its pace so far (year to date,
  the current month projected, × 12 ÷ months of the agreement year so far). A month that is
  over is judged on its figures alone.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from fractions import Fraction

HOUR = 60
MONTH_OVERTIME_CAP = 45 * HOUR  # 月45時間 (time outside statutory hours, holiday work excluded)
YEAR_OVERTIME_CAP = 360 * HOUR  # 年360時間
SPECIAL_YEAR_OVERTIME_CAP = 720 * HOUR  # 特別条項: 年720時間 (holiday work excluded)
MONTH_TOTAL_CEILING = 100 * HOUR  # overtime + holiday work must stay *under* 100 h
AVERAGE_CAP = 80 * HOUR  # overtime + holiday work averaged over 2–6 months: at most 80 h
AVERAGE_WINDOWS = (2, 3, 4, 5, 6)
MONTHS_OVER_45_ALLOWED = 6
NOTICE_THRESHOLD = 80 * HOUR  # 安衛則52条の2: over 80 h in a month, the worker is told
STATUTORY_DAY = 8 * HOUR  # 法定労働時間 per day, for estimates
CLOSURE_RATE_REQUIRED = Fraction(285, 1000)  # 4週8休: 8 of 28 days = 28.57 % ≥ 28.5 %
FOUR_WEEKS = 28


class Limit(str, Enum):
    MONTH_45 = "month_45h"
    YEAR_360 = "year_360h"
    YEAR_720 = "year_720h"
    MONTH_100 = "month_100h"
    AVERAGE_80 = "average_80h"
    MONTHS_OVER_45 = "months_over_45h"


class Verdict(str, Enum):
    OK = "ok"
    AT_RISK = "at_risk"  # at the current pace the month or year will exceed the limit
    VIOLATED = "violated"


@dataclass(frozen=True)
class MonthFigures:
    """One worker's month under one employer: overtime (時間外労働) and holiday work (休日労働)."""

    overtime: int
    holiday: int = 0
    disaster: bool = False  # the month overlaps a disaster-work period

    @property
    def total(self) -> int:
        return self.overtime + self.holiday


@dataclass(frozen=True)
class Agreement:
    """An employer's 36 agreement (36協定): the first month of its year, and whether it has the
    special clause (特別条項)."""

    start_month: date
    special_clause: bool


@dataclass(frozen=True)
class MonthJudgment:
    month: date
    overtime: int
    holiday: int
    year_start: date
    year_overtime: int  # the agreement year's overtime up to and including this month
    months_over_45: int  # months of the agreement year so far with overtime over 45 h
    averages: dict[int, float]  # window length → average overtime + holiday work (minutes)
    limits: dict[Limit, Verdict]
    lifted: tuple[Limit, ...] = field(default=())  # by the disaster-work exception
    notice_owed: bool = False

    @property
    def total(self) -> int:
        return self.overtime + self.holiday


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> int:
    """Whole months from `first`'s month to `last`'s (0 for the same month)."""
    return (last.year - first.year) * 12 + last.month - first.month


def days_in_month(month: date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def agreement_year_start(agreement: Agreement, month: date) -> date:
    """The first month of the agreement year (対象期間, 1 year) that contains `month`."""
    offset = months_between(month_of(agreement.start_month), month) % 12
    return add_months(month, -offset)


def _verdict(over_now: bool, over_at_pace: bool) -> Verdict:
    if over_now:
        return Verdict.VIOLATED
    if over_at_pace:
        return Verdict.AT_RISK
    return Verdict.OK


def _pace(month: date, as_of: date | None) -> tuple[int, int]:
    """How much of `month` had passed on `as_of`, as the fraction (days in month, days passed)
    that projects its figures; (1, 1) for a month that is over. The limits compare whole
    numbers multiplied out, never rounded quotients (and a monitor of thousands of workers
    spends no time in `Fraction`)."""
    if as_of is None or month_of(as_of) != month:
        return 1, 1
    return days_in_month(month), as_of.day


def judge_month(
    history: Mapping[date, MonthFigures],
    month: date,
    agreement: Agreement,
    as_of: date | None = None,
) -> MonthJudgment:
    """Every limit for one month of one worker under one employer's agreement.

    `history` holds the months with figures (first days of months); a month absent from it had
    no overtime. `as_of` (the date the figures run to) makes the month that contains it a month
    in progress, judged also at its pace."""
    month = month_of(month)
    none = MonthFigures(0)
    now = history.get(month, none)
    num, den = _pace(month, as_of)  # projected figure = figure * num / den
    year_start = agreement_year_start(agreement, month)
    passed = months_between(year_start, month) + 1  # months of the agreement year so far
    before = [history.get(add_months(year_start, i), none) for i in range(passed - 1)]
    overtime_before = sum(f.overtime for f in before)
    year_overtime = overtime_before + now.overtime
    over_45_before = sum(1 for f in before if f.overtime > MONTH_OVERTIME_CAP)
    months_over_45 = over_45_before + (now.overtime > MONTH_OVERTIME_CAP)
    over_45_at_pace = over_45_before + (now.overtime * num > MONTH_OVERTIME_CAP * den)

    def year_verdict(cap: int) -> Verdict:
        # At its pace, the year is (before + this month projected) × 12 / months passed.
        at_pace = (num != den and (overtime_before * den + now.overtime * num) * 12
                   > cap * den * passed)
        return _verdict(year_overtime > cap, at_pace)

    limits: dict[Limit, Verdict] = {}
    lifted: list[Limit] = []
    if agreement.special_clause:
        limits[Limit.YEAR_720] = year_verdict(SPECIAL_YEAR_OVERTIME_CAP)
        limits[Limit.MONTHS_OVER_45] = _verdict(months_over_45 > MONTHS_OVER_45_ALLOWED,
                                                over_45_at_pace > MONTHS_OVER_45_ALLOWED)
    else:
        limits[Limit.MONTH_45] = _verdict(now.overtime > MONTH_OVERTIME_CAP,
                                          now.overtime * num > MONTH_OVERTIME_CAP * den)
        limits[Limit.YEAR_360] = year_verdict(YEAR_OVERTIME_CAP)
    if now.disaster:
        lifted.append(Limit.MONTH_100)
    else:  # "under 100 h": 100 h itself violates
        limits[Limit.MONTH_100] = _verdict(now.total >= MONTH_TOTAL_CEILING,
                                           now.total * num >= MONTH_TOTAL_CEILING * den)

    averages: dict[int, float] = {}
    average_verdicts = []
    this = 0 if now.disaster else now.total
    earlier = 0  # the window's months before this one, disaster months left out
    earlier_disaster = False
    for length in range(2, max(AVERAGE_WINDOWS) + 1):
        previous = history.get(add_months(month, 1 - length), none)
        earlier += 0 if previous.disaster else previous.total
        earlier_disaster |= previous.disaster
        if length not in AVERAGE_WINDOWS:
            continue
        averages[length] = (earlier + this) / length
        average_verdicts.append(_verdict(
            earlier + this > AVERAGE_CAP * length,
            earlier * den + this * num > AVERAGE_CAP * length * den))
    if now.disaster or earlier_disaster:
        lifted.append(Limit.AVERAGE_80)  # in part: the disaster months' hours are left out
    limits[Limit.AVERAGE_80] = worst(average_verdicts)
    return MonthJudgment(
        month=month,
        overtime=now.overtime,
        holiday=now.holiday,
        year_start=year_start,
        year_overtime=year_overtime,
        months_over_45=months_over_45,
        averages=averages,
        limits=limits,
        lifted=tuple(lifted),
        notice_owed=now.total > NOTICE_THRESHOLD,
    )


_SEVERITY = {Verdict.OK: 0, Verdict.AT_RISK: 1, Verdict.VIOLATED: 2}


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    return max(verdicts, key=_SEVERITY.__getitem__, default=Verdict.OK)


def estimate_day(minutes_on_site: int, break_minutes: int) -> tuple[int, int]:
    """An *estimate* of a day's (statutory hours, overtime) from time on site: on site less the
    configured break, over 8 h counted as overtime. Gate time is not working time; this is only
    what the monitor shows where the employer reported nothing, and it says so."""
    working = max(0, minutes_on_site - break_minutes)
    return min(working, STATUTORY_DAY), max(0, working - STATUTORY_DAY)


# -- 週休2日 -------------------------------------------------------------------------------------


def meets_four_weeks_eight_days(closed: int, days: int) -> bool:
    """4週8休: closed days are at least 28.5 % of the days counted."""
    return days > 0 and closed * CLOSURE_RATE_REQUIRED.denominator >= (
        CLOSURE_RATE_REQUIRED.numerator * days)


@dataclass(frozen=True)
class ClosureSpan:
    first: date
    last: date
    days: int  # days counted (excluded days left out)
    closed: int  # counted days with no worker on site
    excluded: int

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.closed, self.days) if self.days else None

    @property
    def meets(self) -> bool | None:
        """None for a span with no day to count (all excluded)."""
        return meets_four_weeks_eight_days(self.closed, self.days) if self.days else None


def _span(first: date, last: date, open_days: set[date], excluded: set[date]) -> ClosureSpan:
    days = closed = excluded_count = 0
    day = first
    while day <= last:
        if day in excluded:
            excluded_count += 1
        else:
            days += 1
            closed += day not in open_days
        day += timedelta(days=1)
    return ClosureSpan(first, last, days, closed, excluded_count)


def closures(
    first: date, last: date, open_days: Iterable[date], excluded: Iterable[date] = ()
) -> tuple[ClosureSpan, list[ClosureSpan]]:
    """The closure rate of a site's period, 通期 (the whole period) and 月単位 (each calendar
    month of it, clipped to the period). `open_days`: days with a worker on site."""
    opened, left_out = set(open_days), set(excluded)
    months = []
    month = month_of(first)
    while month <= last:
        end = add_months(month, 1) - timedelta(days=1)
        months.append(_span(max(first, month), min(last, end), opened, left_out))
        month = add_months(month, 1)
    return _span(first, last, opened, left_out), months


def days_off_by_four_weeks(
    first: date, last: date, worked: Iterable[date], excluded: Iterable[date] = ()
) -> list[ClosureSpan]:
    """交替制: one worker's days off on a site, over consecutive 4-week blocks from `first` (the
    last block may be shorter and is judged by the same rate)."""
    worked_days, left_out = set(worked), set(excluded)
    blocks: list[ClosureSpan] = []
    start = first
    while start <= last:
        end = min(last, start + timedelta(days=FOUR_WEEKS - 1))
        blocks.append(_span(start, end, worked_days, left_out))
        start = end + timedelta(days=1)
    return blocks


def expand_periods(periods: Sequence[tuple[date, date]], first: date, last: date) -> set[date]:
    """The days of `periods` (inclusive) that fall within first…last."""
    days: set[date] = set()
    for start, end in periods:
        day = max(start, first)
        while day <= min(end, last):
            days.add(day)
            day += timedelta(days=1)
    return days
