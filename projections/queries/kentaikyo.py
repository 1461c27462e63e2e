"""建退共 — a month's worker-days and points per worker × contracting employer × site, with totals
per employer (共済契約者) and per prime (元請一括), settled by ``projections.kentaikyo``.

"One day, one contribution" is decided across *all* of a worker's counted records that month,
visible to the caller or not; only then are the lines cut down to the caller's scope. A day carried
by a record the caller may not see shows "already covered" without naming that site.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from ledger.domain.site import KentaikyoMethod
from projections.kentaikyo import (
    AlreadyCovered,
    DayOutcome,
    Eligible,
    Ineligibility,
    MonthReport,
    PrimeTotal,
    ReportLine,
    SiteInfo,
    Total,
    month_bounds,
    month_report,
)
from projections.queries._common import (
    RECORD_COLUMNS,
    Source,
    chunks,
    is_in,
    reading,
    work_record,
)
from projections.records import WorkRecord
from projections.store import Tx, as_date


class Outcome(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    ALREADY_COVERED = "already_covered"


@dataclass(frozen=True)
class KentaikyoDay:
    work_date: date
    outcome: Outcome
    points_yen: int
    reason: Ineligibility | None  # why a not-eligible day earns nothing
    carrying_site_id: str | None  # already covered by that site's record; None if not visible
    event_positions: tuple[int, ...]


@dataclass(frozen=True)
class KentaikyoLine:
    technician_id: str
    month: str
    employer_business_id: str | None
    site_id: str
    prime_business_id: str
    upper_chain: tuple[str, ...]  # the employer's upper businesses on the site, ending with prime
    days: tuple[KentaikyoDay, ...]

    @property
    def eligible_days(self) -> int:
        return sum(1 for day in self.days if day.outcome is Outcome.ELIGIBLE)

    @property
    def points_yen(self) -> int:
        return sum(day.points_yen for day in self.days)

    @property
    def not_eligible_days(self) -> int:
        return sum(1 for day in self.days if day.outcome is Outcome.NOT_ELIGIBLE)


@dataclass(frozen=True)
class KentaikyoMonth:
    month: str
    due_on: date  # the work report is due by the end of the following month
    lines: tuple[KentaikyoLine, ...]
    employer_totals: Mapping[str, Total]  # per contracting employer, its visible lines
    prime_totals: Mapping[str, PrimeTotal]  # per prime, everyone on its sites (元請一括)

    @property
    def points_yen(self) -> int:
        return sum(line.points_yen for line in self.lines)


def kentaikyo_month(
    source: Source,
    month: str,
    only_sites_of_prime: str | None = None,
    only_employer: str | None = None,
    technician_id: str | None = None,
    only_sites: Collection[str] | None = None,
    workers_on: Collection[str] | None = None,
) -> KentaikyoMonth:
    """Settle ``month`` ('YYYY-MM'). Scopes: lines on the prime's sites (its subcontractors'
    workers included), lines whose employer is the business, one worker's lines, lines on the
    given sites; none: all. ``workers_on``: settle only the workers with a record on these sites
    that month (a site's month: its lines, without reading every site of the prime's); their
    lines elsewhere stay in the scope's, so a day carried there is named as before."""
    report, visible = scoped_report(source, month, only_sites_of_prime, only_employer,
                                    technician_id, only_sites, workers_on)
    return _result(report, visible)


def scoped_report(
    source: Source,
    month: str,
    only_sites_of_prime: str | None = None,
    only_employer: str | None = None,
    technician_id: str | None = None,
    only_sites: Collection[str] | None = None,
    workers_on: Collection[str] | None = None,
) -> tuple[MonthReport, list[ReportLine]]:
    """The month settled over every counted record of the scope's workers, and the lines of it
    the scope shows (see `kentaikyo_month`)."""
    first, last = month_bounds(month)
    with reading(source) as tx:
        workers = _candidates(tx, first, last, only_sites_of_prime, only_employer, technician_id,
                              only_sites if workers_on is None else workers_on)
        records = _counted_records(tx, workers, first, last)
        report = month_report(records, _worker_enrollments(tx, workers),
                              _employer_enrollments(tx, records), _sites(tx, records), month)
    visible = [line for line in report.lines
               if only_sites_of_prime in (None, line.prime_business_id)
               and only_employer in (None, line.employer_business_id)
               and technician_id in (None, line.technician_id)
               and (only_sites is None or line.site_id in only_sites)]
    return report, visible


def _candidates(
    tx: Tx, first: date, last: date, prime: str | None, employer: str | None,
    technician_id: str | None, sites: Collection[str] | None = None,
) -> list[str]:
    """Workers who may have a line in the scope (their other sites' records are read too);
    `sites`: only those with a record on these sites."""
    if technician_id is not None:
        return [technician_id]
    in_month = "w.work_date >= %s AND w.work_date <= %s AND w.status = 'counted'"
    if sites is not None:
        # A line on given sites is a worker's with a record there: read those sites' month, not
        # every site of the prime's (each worker's month is settled on its own, so the lines
        # of these workers are the same).
        if not sites:
            return []
        sites_in, site_params = is_in(tx, "w.site_id", sorted(sites))
        return sorted({row[0] for row in tx.execute(
            f"SELECT DISTINCT w.technician_id FROM {{work_records}} w WHERE {sites_in} "
            f"AND {in_month}", [*site_params, first, last])})
    if prime is not None:
        sql = ("SELECT DISTINCT w.technician_id FROM {sites} s JOIN {work_records} w "
               f"ON w.site_id = s.site_id WHERE s.prime_business_id = %s AND {in_month}")
        params: list[object] = [prime, first, last]
    elif employer is not None:
        # Roster and manual-entry employers are on the site's structure; a card record without a
        # roster entry takes the worker's employer on the date, from worker_employments.
        sql = ("SELECT w.technician_id FROM {site_structure} t JOIN {work_records} w "
               f"ON w.site_id = t.site_id WHERE t.business_id = %s AND {in_month} "
               "AND w.employer_business_id = %s UNION SELECT technician_id "
               "FROM {worker_employments} WHERE business_id = %s AND since <= %s "
               "AND (until IS NULL OR until >= %s)")
        params = [employer, first, last, employer, employer, last, first]
    else:
        sql = f"SELECT DISTINCT w.technician_id FROM {{work_records}} w WHERE {in_month}"
        params = [first, last]
    return sorted({row[0] for row in tx.execute(sql, params)})


def _counted_records(tx: Tx, workers: Sequence[str], first: date, last: date) -> list[WorkRecord]:
    records: list[WorkRecord] = []
    for part in chunks(workers):
        workers_in, params = is_in(tx, "w.technician_id", part)
        records += [work_record(row) for row in tx.execute(
            f"SELECT {RECORD_COLUMNS} FROM {{work_records}} w WHERE {workers_in} "
            "AND w.work_date >= %s AND w.work_date <= %s AND w.status = 'counted'",
            [*params, first, last])]
    return records


def _worker_enrollments(tx: Tx, workers: Sequence[str]) -> dict[str, date | None]:
    return _enrollments(tx, "SELECT technician_id, kentaikyo_since FROM {workers}",
                        "technician_id", workers)


def _employer_enrollments(tx: Tx, records: Iterable[WorkRecord]) -> dict[str, date | None]:
    employers = sorted({r.employer_business_id for r in records if r.employer_business_id})
    return _enrollments(tx, "SELECT business_id, kentaikyo_since FROM {businesses}",
                        "business_id", employers)


def _enrollments(
    tx: Tx, select: str, key_column: str, keys: Sequence[str]
) -> dict[str, date | None]:
    found: dict[str, date | None] = {}
    for part in chunks(keys):
        keys_in, params = is_in(tx, key_column, part)
        found |= {key: as_date(since)
                  for key, since in tx.execute(f"{select} WHERE {keys_in}", params)}
    return found


def _sites(tx: Tx, records: Iterable[WorkRecord]) -> dict[str, SiteInfo]:
    site_ids = sorted({r.site_id for r in records})
    heads: dict[str, tuple[str, str]] = {}
    parents: defaultdict[str, dict[str, str]] = defaultdict(dict)
    for part in chunks(site_ids):
        sites_in, params = is_in(tx, "site_id", part)
        for site_id, prime, method in tx.execute(
            f"SELECT site_id, prime_business_id, kentaikyo_method FROM {{sites}} WHERE {sites_in}",
            params):
            heads[site_id] = (prime, method)
        for site_id, business, parent in tx.execute(
            "SELECT site_id, business_id, parent_business_id FROM {site_structure} "
            f"WHERE {sites_in} AND parent_business_id IS NOT NULL", params):
            parents[site_id][business] = parent
    return {site_id: SiteInfo.from_parents(site_id, prime, KentaikyoMethod(method),
                                           parents[site_id])
            for site_id, (prime, method) in heads.items()}


def _result(report: MonthReport, visible: list[ReportLine]) -> KentaikyoMonth:
    shown = {(line.technician_id, line.site_id, day.work_date)
             for line in visible for day in line.days}
    lines = tuple(KentaikyoLine(
        line.technician_id, line.month, line.employer_business_id, line.site_id,
        line.prime_business_id, line.upper_chain,
        tuple(_day(day, line.technician_id, shown) for day in line.days),
    ) for line in visible)
    return KentaikyoMonth(report.month, report.due_on, lines, *_totals(lines))


def _day(
    day: DayOutcome, technician_id: str, shown: set[tuple[str, str, date]]
) -> KentaikyoDay:
    if isinstance(day, Eligible):
        return KentaikyoDay(day.work_date, Outcome.ELIGIBLE, day.points_yen, None, None,
                            day.event_positions)
    if isinstance(day, AlreadyCovered):
        key = (technician_id, day.carrying_site_id, day.work_date)
        carrier = day.carrying_site_id if key in shown else None
        return KentaikyoDay(day.work_date, Outcome.ALREADY_COVERED, 0, None, carrier,
                            day.event_positions)
    return KentaikyoDay(day.work_date, Outcome.NOT_ELIGIBLE, 0, day.reason, None,
                        day.event_positions)


def _totals(
    lines: Iterable[KentaikyoLine],
) -> tuple[Mapping[str, Total], Mapping[str, PrimeTotal]]:
    employers: defaultdict[str, Total] = defaultdict(Total)
    primes: defaultdict[str, defaultdict[str | None, Total]] = defaultdict(
        lambda: defaultdict(Total))
    for line in lines:
        total = Total(line.eligible_days, line.points_yen)
        if line.employer_business_id is not None:
            employers[line.employer_business_id] += total
        primes[line.prime_business_id][line.employer_business_id] += total
    prime_totals = {prime: PrimeTotal(prime, sum(by.values(), Total()), MappingProxyType(dict(by)))
                    for prime, by in sorted(primes.items())}
    return MappingProxyType(dict(sorted(employers.items()))), MappingProxyType(prime_totals)
