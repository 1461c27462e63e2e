"""就労実績報告 — a month's worker-days and points per worker × contracting employer × site, with
totals per 共済契約者 and per prime contractor (元請一括)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

from ledger.clock import end_of_month
from projections.kentaikyo.contribution import (
    AlreadyCovered,
    DayOutcome,
    Eligible,
    NotEligible,
    carriers,
    judge_day,
)
from projections.kentaikyo.errors import InvalidMonth, UnknownSite
from projections.kentaikyo.sites import SiteInfo
from projections.records import WorkRecord

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class ReportLine:
    """One worker × month × contracting employer × site, with every counted day's outcome.

    `upper_chain` is the employer's chain on the site, nearest first, ending with the prime: who
    may see this line, and (last) who pays under 元請一括. Empty when the employer is the prime or
    is not on the structure.
    """

    technician_id: str
    month: str
    employer_business_id: str | None
    site_id: str
    prime_business_id: str
    upper_chain: tuple[str, ...]
    days: tuple[DayOutcome, ...]  # sorted by work date

    @property
    def eligible_dates(self) -> tuple[date, ...]:
        return tuple(day.work_date for day in self.days if isinstance(day, Eligible))

    @property
    def eligible_days(self) -> int:
        return len(self.eligible_dates)

    @property
    def points_yen(self) -> int:
        return sum(day.points_yen for day in self.days if isinstance(day, Eligible))

    @property
    def not_eligible(self) -> tuple[NotEligible, ...]:
        return tuple(day for day in self.days if isinstance(day, NotEligible))

    @property
    def already_covered(self) -> tuple[AlreadyCovered, ...]:
        return tuple(day for day in self.days if isinstance(day, AlreadyCovered))

    @property
    def event_positions(self) -> tuple[int, ...]:
        """Log positions of the records behind this line (not of the carriers it points to)."""
        return tuple(sorted({p for day in self.days for p in day.event_positions}))


@dataclass(frozen=True)
class Total:
    eligible_days: int = 0
    points_yen: int = 0

    def __add__(self, other: Total) -> Total:
        return Total(
            self.eligible_days + other.eligible_days, self.points_yen + other.points_yen
        )


@dataclass(frozen=True)
class PrimeTotal:
    """What a prime pays across its sites' whole subcontract trees, and for whose workers:
    `by_employer[b]` is what each subcontractor (or the prime itself) sees paid for its workers."""

    prime_business_id: str
    total: Total
    by_employer: Mapping[str | None, Total]


@dataclass(frozen=True)
class MonthReport:
    month: str
    lines: tuple[ReportLine, ...]
    employer_totals: Mapping[str, Total]  # per 共済契約者, its own workers, on any prime's site
    prime_totals: Mapping[str, PrimeTotal]  # per 元請, everyone on its sites

    @property
    def points_yen(self) -> int:
        return sum(line.points_yen for line in self.lines)

    @property
    def due_on(self) -> date:
        """The report for a month is due by the end of the following month (DESIGN.md §2)."""
        _, last = month_bounds(self.month)
        return end_of_month(last + timedelta(days=1))


def month_bounds(month: str) -> tuple[date, date]:
    """First and last calendar day of 'YYYY-MM' (work dates are JST dates already)."""
    match = _MONTH.fullmatch(month) if isinstance(month, str) else None
    if match is None:
        raise InvalidMonth(month)
    first = date(int(match[1]), int(match[2]), 1)
    return first, end_of_month(first)


def month_report(
    records: Iterable[WorkRecord],
    workers: Mapping[str, date | None],
    employers: Mapping[str, date | None],
    sites: Mapping[str, SiteInfo],
    month: str,
) -> MonthReport:
    """Settle one month. `workers` and `employers` give each one's Kentaikyo enrollment date
    (被共済者 / 共済契約者); absent or ``None`` means not enrolled. Only counted records in the
    month are read; pending, rejected and expired ones are ignored entirely."""
    first, last = month_bounds(month)
    in_month = [r for r in records if r.counted and first <= r.work_date <= last]
    carried = carriers(in_month)
    days: defaultdict[tuple[str, str | None, str], list[DayOutcome]] = defaultdict(list)
    for record in in_month:
        site = sites.get(record.site_id)
        if site is None:
            raise UnknownSite(record.site_id)
        employer = record.employer_business_id
        days[(record.technician_id, employer, record.site_id)].append(judge_day(
            record, carried[(record.technician_id, record.work_date)],
            workers.get(record.technician_id),
            None if employer is None else employers.get(employer),
            site,
        ))
    lines = tuple(
        _line(month, key, outcomes, sites[key[2]])
        for key, outcomes in sorted(days.items(), key=lambda item: _line_order(item[0]))
    )
    return MonthReport(month, lines, _employer_totals(lines), _prime_totals(lines))


def _line(
    month: str, key: tuple[str, str | None, str], outcomes: list[DayOutcome], site: SiteInfo
) -> ReportLine:
    technician_id, employer, site_id = key
    chain = () if employer is None else site.upper_chain.get(employer, ())
    return ReportLine(
        technician_id, month, employer, site_id, site.prime_business_id, chain,
        tuple(sorted(outcomes, key=lambda day: day.work_date)),
    )


def _line_order(key: tuple[str, str | None, str]) -> tuple[str, bool, str, str]:
    technician_id, employer, site_id = key
    return (technician_id, employer is None, employer or "", site_id)


def _employer_totals(lines: Iterable[ReportLine]) -> Mapping[str, Total]:
    totals: defaultdict[str, Total] = defaultdict(Total)
    for line in lines:
        if line.employer_business_id is not None:
            totals[line.employer_business_id] += _total(line)
    return MappingProxyType(dict(sorted(totals.items())))


def _prime_totals(lines: Iterable[ReportLine]) -> Mapping[str, PrimeTotal]:
    by_prime: defaultdict[str, defaultdict[str | None, Total]] = defaultdict(
        lambda: defaultdict(Total)
    )
    for line in lines:
        by_prime[line.prime_business_id][line.employer_business_id] += _total(line)
    return MappingProxyType({
        prime: PrimeTotal(
            prime, sum(by_employer.values(), Total()), MappingProxyType(dict(by_employer))
        )
        for prime, by_employer in sorted(by_prime.items())
    })


def _total(line: ReportLine) -> Total:
    return Total(line.eligible_days, line.points_yen)
