"""勤怠・労務管理 reads: time on site, the overtime monitor, and 週休2日 closures.

- **Time on site** (滞在時間) is the time between a worker's first entry and last exit at a site
  on a work date, from the work records (an overnight shift belongs to the date it started, as
  the records do). Several sites a day are added; a record with no exit is *unknown*, never
  guessed. It is gate time, not working time.
- **The overtime monitor** reads what the employer reported (`working_time_months`, kept by the
  projection as each report comes); a month with no report is *estimated* from time on site
  less the configured break (`labour_rules.estimate_day`) and says so. The limits are judged by
  the pure rules of `ledger.domain.labour_rules`.
- **Closures:** a site is closed on a day with no counted record on it; the closure rate leaves
  out the prime's excluded periods.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ledger.domain.labour_rules import (
    Agreement,
    ClosureSpan,
    MonthFigures,
    MonthJudgment,
    add_months,
    agreement_year_start,
    closures,
    days_off_by_four_weeks,
    estimate_day,
    expand_periods,
    judge_month,
)
from projections.queries._common import (
    Source,
    chunks,
    is_in,
    json_tuple,
    reading,
    scope_filter,
    values_filter,
)
from projections.queries.paging import Keyset
from projections.store import Tx, as_date

DEFAULT_BREAK_MINUTES = 60  # 休憩 deducted from time on site for an estimate (労基法34条: 1 h)
AVERAGE_REACH = 5  # months before the month judged that its 2–6 month averages look at


@dataclass(frozen=True)
class SiteTime:
    site_id: str
    employer_business_id: str | None
    first_entry: Any
    last_exit: Any
    minutes_on_site: int | None  # None: no exit, unknown
    event_positions: tuple[int, ...]


@dataclass(frozen=True)
class TimeOnSiteDay:
    """One worker's day: each site's time on site and the day's sum (None if any is unknown)."""

    technician_id: str
    work_date: date
    sites: tuple[SiteTime, ...]

    @property
    def known_minutes(self) -> int:
        return sum(s.minutes_on_site or 0 for s in self.sites)

    @property
    def minutes_on_site(self) -> int | None:
        if any(s.minutes_on_site is None for s in self.sites):
            return None
        return self.known_minutes


def time_on_site(
    source: Source, technician_id: str, date_from: date, date_to: date,
    only_sites_of_prime: str | None = None, only_employer: str | None = None,
    only_sites: frozenset[str] | None = None,
) -> list[TimeOnSiteDay]:
    """A worker's time on site per day, within what the caller may read of their records."""
    scope_sql, scope_params = scope_filter(only_sites_of_prime, only_employer, "w", only_sites)
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT w.work_date, w.site_id, w.employer_business_id, w.first_entry, w.last_exit, "
            "w.minutes_on_site, w.event_positions FROM {work_records} w "
            "WHERE w.technician_id = %s AND w.work_date >= %s AND w.work_date <= %s "
            "AND w.status = 'counted' AND w.first_entry IS NOT NULL" + scope_sql +
            " ORDER BY w.work_date, w.site_id",
            [technician_id, date_from, date_to, *scope_params],
        )
    days: dict[date, list[SiteTime]] = defaultdict(list)
    for row in rows:
        work_date = as_date(row[0])
        assert work_date is not None
        days[work_date].append(
            SiteTime(row[1], row[2], row[3], row[4], row[5], json_tuple(row[6])))
    return [TimeOnSiteDay(technician_id, d, tuple(s)) for d, s in days.items()]


# -- the overtime monitor -----------------------------------------------------------------------


@dataclass(frozen=True)
class MonitorMonth:
    """One worker's month under one employer, with every limit judged."""

    technician_id: str
    employer_business_id: str
    month: date
    statutory: int
    judgment: MonthJudgment
    estimated: bool  # no report: figures estimated from time on site less the break
    unknown_exits: int  # days of the estimate with a missing exit (counted as what is known)
    agreement: Agreement | None  # None: no 36 agreement recorded (judged as one without a clause)
    event_positions: tuple[int, ...]


@dataclass
class _Month:
    statutory: int = 0
    overtime: int = 0
    holiday: int = 0
    estimated: bool = False
    unknown_exits: int = 0
    positions: list[int] = field(default_factory=list)


def agreement_of(tx: Tx, employer: str, month: date) -> Agreement | None:
    rows = tx.execute(
        "SELECT start_month, special_clause FROM {overtime_agreements} WHERE business_id = %s "
        "AND start_month <= %s ORDER BY start_month DESC LIMIT 1",
        [employer, month],
    )
    if not rows:
        return None
    start = as_date(rows[0][0])
    assert start is not None
    return Agreement(start, bool(rows[0][1]))


def _disaster_months(tx: Tx, employer: str, first: date, last: date) -> set[date]:
    rows = tx.execute(
        "SELECT first_day, last_day FROM {disaster_work_periods} WHERE business_id = %s "
        "AND withdrawn_position IS NULL AND first_day <= %s AND last_day >= %s",
        [employer, add_months(last, 1) - timedelta(days=1), first],
    )
    months: set[date] = set()
    for start_value, end_value in rows:
        start, end = as_date(start_value), as_date(end_value)
        assert start is not None and end is not None
        month = start.replace(day=1)
        while month <= end:
            months.add(month)
            month = add_months(month, 1)
    return months


def _reported(
    tx: Tx, employer: str, workers: Sequence[str], first: date, last: date
) -> dict[str, dict[date, _Month]]:
    found: dict[str, dict[date, _Month]] = defaultdict(dict)
    for part in chunks(list(workers)):
        workers_in, params = is_in(tx, "technician_id", part)
        for row in tx.execute(
            "SELECT technician_id, month, day_statutory_minutes, day_overtime_minutes, "
            "day_holiday_minutes, month_statutory_minutes, month_overtime_minutes, "
            "month_holiday_minutes, positions FROM {working_time_months} "
            f"WHERE employer_business_id = %s AND month >= %s AND month <= %s AND {workers_in}",
            [employer, first, last, *params],
        ):
            month = as_date(row[1])
            assert month is not None
            by_month = row[5] is not None
            figures = row[5:8] if by_month else row[2:5]
            found[row[0]][month] = _Month(figures[0], figures[1], figures[2],
                                          positions=list(json_tuple(row[8])))
    return found


def _estimated(
    tx: Tx, employer: str, workers: Sequence[str] | None, first: date, last: date,
    break_minutes: int,
) -> dict[str, dict[date, _Month]]:
    """Months estimated from time on site (every site of the day added, under this employer)."""
    end = add_months(last, 1) - timedelta(days=1)
    days: dict[tuple[str, date], list[tuple[int | None, tuple[int, ...]]]] = defaultdict(list)
    for part in chunks(list(workers)) if workers is not None else [None]:
        params: list[Any] = [employer, first, end]
        workers_sql = ""
        if part is not None:
            workers_sql, worker_params = is_in(tx, "technician_id", part)
            workers_sql = " AND " + workers_sql
            params.extend(worker_params)
        for row in tx.execute(
            "SELECT technician_id, work_date, minutes_on_site, event_positions "
            "FROM {work_records} WHERE employer_business_id = %s AND work_date >= %s "
            "AND work_date <= %s AND status = 'counted' AND first_entry IS NOT NULL"
            + workers_sql,
            params,
        ):
            work_date = as_date(row[1])
            assert work_date is not None
            days[(row[0], work_date)].append((row[2], json_tuple(row[3])))
    found: dict[str, dict[date, _Month]] = defaultdict(dict)
    for (technician_id, work_date), sites in days.items():
        month = found[technician_id].setdefault(work_date.replace(day=1), _Month(estimated=True))
        statutory, overtime = estimate_day(sum(m or 0 for m, _ in sites), break_minutes)
        month.statutory += statutory
        month.overtime += overtime
        month.unknown_exits += any(m is None for m, _ in sites)
        month.positions.extend(p for _, positions in sites for p in positions)
    return found


def monitor(
    source: Source, employer: str, month: date, as_of: date | None = None,
    workers: Sequence[str] | None = None, break_minutes: int = DEFAULT_BREAK_MINUTES,
) -> list[MonitorMonth]:
    """The overtime monitor for one employer's month: each worker with reported or estimated
    figures that month (or `workers` only), every limit judged over the months it needs."""
    month = month.replace(day=1)
    with reading(source) as tx:
        agreement = agreement_of(tx, employer, month)
        judged_as = agreement or Agreement(month, special_clause=False)
        first = min(agreement_year_start(judged_as, month), add_months(month, -AVERAGE_REACH))
        if workers is None:
            listed = {r[0] for r in tx.execute(
                "SELECT technician_id FROM {working_time_months} WHERE employer_business_id = %s "
                "AND month = %s", [employer, month])}
            listed |= {r[0] for r in tx.execute(
                "SELECT DISTINCT technician_id FROM {work_day_months} "
                "WHERE employer_business_id = %s AND month = %s", [employer, month])}
            workers = sorted(listed)
        if not workers:
            return []
        reported = _reported(tx, employer, workers, first, month)
        estimated = _estimated(tx, employer, workers, first, month, break_minutes)
        disaster = _disaster_months(tx, employer, first, month)
    answers = []
    for technician_id in workers:
        months = {**estimated.get(technician_id, {}), **reported.get(technician_id, {})}
        if month not in months:
            continue
        history = {m: MonthFigures(f.overtime, f.holiday, m in disaster)
                   for m, f in months.items()}
        this = months[month]
        answers.append(MonitorMonth(
            technician_id, employer, month, this.statutory,
            judge_month(history, month, judged_as, as_of), this.estimated, this.unknown_exits,
            agreement, tuple(sorted(set(this.positions)))))
    return answers


def monitored_workers(
    source: Source, employer: str, month: date, page: Keyset,
    workers: Collection[str] | None = None,
) -> list[str]:
    """A page of the workers `monitor` lists for the employer's month (reported or estimated
    figures), in SQL: keyset on technician_id in each table's employer index, the caller's
    `workers` (None: all) in the WHERE; `monitor` then derives the page's rows alone."""
    month = month.replace(day=1)
    after, tail, keyset_params = page.clauses(("technician_id",))
    with reading(source) as tx:
        shown_sql, shown_params = values_filter(tx, "technician_id", workers)
        where = f"employer_business_id = %s AND month = %s{shown_sql}{after}{tail}"
        params = [employer, month, *shown_params, *keyset_params]
        rows = tx.execute(
            "SELECT technician_id FROM (SELECT * FROM (SELECT technician_id FROM "
            f"{{working_time_months}} WHERE {where}) AS reported UNION SELECT * FROM (SELECT "
            f"technician_id FROM {{work_day_months}} WHERE {where}) AS worked) AS listed "
            "ORDER BY technician_id LIMIT %s", [*params, *params, page.limit + 1])
    return [str(row[0]) for row in rows]


def employers_of_worker(source: Source, technician_id: str, month: date) -> list[str]:
    """Employers with reported or estimated figures for the worker in the month."""
    end = add_months(month, 1) - timedelta(days=1)
    with reading(source) as tx:
        found = {r[0] for r in tx.execute(
            "SELECT employer_business_id FROM {working_time_months} WHERE technician_id = %s "
            "AND month = %s", [technician_id, month])}
        found |= {r[0] for r in tx.execute(
            "SELECT DISTINCT employer_business_id FROM {work_records} WHERE technician_id = %s "
            "AND work_date >= %s AND work_date <= %s AND status = 'counted' "
            "AND employer_business_id IS NOT NULL", [technician_id, month, end])}
    return sorted(found)


# -- 週休2日 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteDay:
    work_date: date
    worker_days: int  # workers with a counted record on the site that day
    manual: int  # of them, records made without the card (直接入力, or corrected)
    excluded: bool


@dataclass(frozen=True)
class WorkerDaysOff:
    technician_id: str
    blocks: tuple[ClosureSpan, ...]


@dataclass(frozen=True)
class SiteClosures:
    site_id: str
    first: date
    last: date
    rotating_shifts: bool
    whole: ClosureSpan  # 通期
    months: tuple[ClosureSpan, ...]  # 月単位
    days: tuple[SiteDay, ...]
    exclusions: tuple[tuple[date, date, str], ...]
    workers: tuple[WorkerDaysOff, ...] = ()  # 交替制: each worker's days off per 4 weeks

    @property
    def meets_monthly(self) -> bool | None:
        verdicts = [m.meets for m in self.months if m.meets is not None]
        return all(verdicts) if verdicts else None


def site_terms(source: Source, site_id: str) -> tuple[str | None, bool]:
    """The site's orderer and whether it works rotating shifts."""
    with reading(source) as tx:
        rows = tx.execute("SELECT orderer_business_id, rotating_shifts FROM {site_terms} "
                          "WHERE site_id = %s", [site_id])
    return (rows[0][0], bool(rows[0][1])) if rows else (None, False)


def _exclusions(tx: Tx, site_id: str, first: date, last: date) -> list[tuple[date, date, str]]:
    found = []
    for row in tx.execute(
        "SELECT first_day, last_day, kind FROM {closure_exclusions} WHERE site_id = %s "
        "AND withdrawn_position IS NULL AND first_day <= %s AND last_day >= %s "
        "ORDER BY first_day, position", [site_id, last, first],
    ):
        start, end = as_date(row[0]), as_date(row[1])
        assert start is not None and end is not None
        found.append((start, end, str(row[2])))
    return found


def site_closures(
    source: Source, site_id: str, first: date, last: date, per_worker: bool = True
) -> SiteClosures:
    """The site's closed days and closure rate over first…last, 通期 and 月単位; with rotating
    shifts (and `per_worker`), each worker's days off per 4 weeks from their first day there."""
    with reading(source) as tx:
        _, rotating = site_terms(tx, site_id)
        rows = tx.execute(
            "SELECT work_date, technician_id, source FROM {work_records} WHERE site_id = %s "
            "AND work_date >= %s AND work_date <= %s AND status = 'counted'",
            [site_id, first, last],
        )
        exclusions = _exclusions(tx, site_id, first, last)
    excluded = expand_periods([(s, e) for s, e, _ in exclusions], first, last)
    per_day: dict[date, list[str]] = defaultdict(list)
    worked: dict[str, set[date]] = defaultdict(set)
    for work_date_value, technician_id, record_source in rows:
        work_date = as_date(work_date_value)
        assert work_date is not None
        per_day[work_date].append(record_source)
        worked[technician_id].add(work_date)
    whole, months = closures(first, last, per_day, excluded)
    days = tuple(
        SiteDay(d, len(per_day.get(d, ())), sum(s != "card" for s in per_day.get(d, ())),
                d in excluded)
        for d in _dates(first, last))
    workers: tuple[WorkerDaysOff, ...] = ()
    if rotating and per_worker:
        workers = tuple(
            WorkerDaysOff(t, tuple(days_off_by_four_weeks(min(dates), last, dates, excluded)))
            for t, dates in sorted(worked.items()))
    return SiteClosures(site_id, first, last, rotating, whole, tuple(months), days,
                        tuple(exclusions), workers)


def _dates(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# -- a site's time on site by employer (the prime's totals) -----------------------------------


@dataclass(frozen=True)
class EmployerTotals:
    employer_business_id: str | None
    worker_days: int
    minutes_on_site: int  # of the days whose exit is known
    unknown_exits: int  # days with no exit: their time is unknown


def site_time_totals(
    source: Source, site_id: str, first: date, last: date, employers: frozenset[str] | None
) -> list[EmployerTotals]:
    """Time on site at a site by employer: totals only (the prime sees other employers' workers
    so, never one by one)."""
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT employer_business_id, COUNT(*), SUM(COALESCE(minutes_on_site, 0)), "
            "SUM(CASE WHEN minutes_on_site IS NULL THEN 1 ELSE 0 END) FROM {work_records} "
            "WHERE site_id = %s AND work_date >= %s AND work_date <= %s AND status = 'counted' "
            "AND first_entry IS NOT NULL GROUP BY employer_business_id",
            [site_id, first, last],
        )
    return [EmployerTotals(r[0], int(r[1]), int(r[2] or 0), int(r[3] or 0))
            for r in sorted(rows, key=lambda r: r[0] or "")
            if employers is None or r[0] in employers]


# -- the orderer's aggregates (no personal data) ------------------------------------------------


@dataclass(frozen=True)
class OrderedSite:
    site_id: str
    name: str
    prime_business_id: str
    kentaikyo_method: str
    opened_on: date
    closed_on: date | None


def orderer_sites(source: Source, orderer_business_id: str, page: Keyset | None = None
                  ) -> list[OrderedSite]:
    """The sites whose terms name the business as their orderer (発注者), by site ID; `page`: a
    page of them (keyset on the site ID in the orderer's index), None: all."""
    after, tail, keyset_params = (("", " ORDER BY t.site_id", []) if page is None
                                  else page.clauses(("t.site_id",)))
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT s.site_id, s.name, s.prime_business_id, s.kentaikyo_method, s.opened_on, "
            "s.closed_on FROM {site_terms} t JOIN {sites} s ON s.site_id = t.site_id "
            f"WHERE t.orderer_business_id = %s{after}{tail}",
            [orderer_business_id, *keyset_params])
    found = []
    for row in rows:
        opened_on = as_date(row[4])
        assert opened_on is not None
        found.append(OrderedSite(row[0], row[1], row[2], row[3], opened_on, as_date(row[5])))
    return found


@dataclass(frozen=True)
class LabourSummary:
    """A site's figures without a worker in them: its 週休2日, worker-days per day, and how its
    records were made (経審 W1-⑩ counts records without direct input)."""

    site_id: str
    name: str
    kentaikyo_method: str
    closures: SiteClosures
    records: int  # counted records in the period
    card_records: int  # of them, from the gate (not entered by hand nor corrected)

    @property
    def without_direct_input_share(self) -> float | None:
        return self.card_records / self.records if self.records else None


def labour_summary(source: Source, site_id: str, first: date, last: date) -> LabourSummary:
    with reading(source) as tx:
        (name, method), = tx.execute(
            "SELECT name, kentaikyo_method FROM {sites} WHERE site_id = %s", [site_id])
        report = site_closures(tx, site_id, first, last, per_worker=False)
    records = sum(d.worker_days for d in report.days)
    manual = sum(d.manual for d in report.days)
    return LabourSummary(site_id, name, method, report, records, records - manual)
