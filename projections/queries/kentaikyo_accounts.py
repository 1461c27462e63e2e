"""建退共の口座, read: the balance per month, what a report would be short of, and reports' due
dates from the wage-payment dates (with reminders before them). Reads the read models only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ledger.clock import end_of_month
from ledger.domain.kentaikyo_account import default_wage_payment, report_due_on
from ledger.domain.settlement.rules import add_months, month_of, parse_month
from projections.kentaikyo import Eligible, NotEligible, month_bounds
from projections.queries._common import Source, chunks, reading
from projections.queries.kentaikyo import scoped_report
from projections.store import as_date


def _day(value: object) -> date:
    """A NOT NULL date column, as a date on both databases."""
    day = as_date(value)
    assert day is not None
    return day


@dataclass(frozen=True)
class AccountMonth:
    """One calendar month of a contracting employer's points (1 point = 1 yen)."""

    month: str
    opening: int
    purchased: int
    credited: int
    used: int

    @property
    def closing(self) -> int:
        return self.opening + self.purchased + self.credited - self.used


@dataclass(frozen=True)
class ReportDeadline:
    """就労実績報告 of a work month: wages paid on `wage_paid_on` (stated, or the month's end),
    due by `due_on`; `applied` once points were used for it."""

    business_id: str
    month: str
    wage_paid_on: date
    stated: bool
    due_on: date
    applied: bool


def _entries(source: Source, business_id: str, last: date) -> list[tuple[str, date, int]]:
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT kind, entry_date, points FROM {kentaikyo_account_entries} "
            "WHERE business_id = %s AND entry_date <= %s ORDER BY entry_date, position",
            [business_id, last])
    return [(kind, _day(on), int(points)) for kind, on, points in rows]


def account_months(source: Source, business_id: str, first: str, last: str
                   ) -> list[AccountMonth]:
    """Each month from `first` to `last` (YYYY-MM, inclusive): opening balance, points bought,
    credited and used in it."""
    start, end = parse_month(first), end_of_month(parse_month(last))
    entries = _entries(source, business_id, end)
    balance = sum(_signed(k, p) for k, on, p in entries if on < start)
    months = []
    month = month_of(start)
    while parse_month(month) <= end:
        inside = [(k, p) for k, on, p in entries if month_of(on) == month]
        row = AccountMonth(month, balance,
                           sum(p for k, p in inside if k == "purchase"),
                           sum(p for k, p in inside if k == "rebate"),
                           sum(p for k, p in inside if k == "use"))
        months.append(row)
        balance = row.closing
        month = add_months(month, 1)
    return months


def _signed(kind: str, points: int) -> int:
    return -points if kind == "use" else points


def balance_on(source: Source, business_id: str, day: date) -> int:
    return sum(_signed(k, p) for k, _, p in _entries(source, business_id, day))


def shortfall(source: Source, business_id: str, needed: int, on: date) -> int:
    """How many points a report needing `needed` on `on` lacks (0: the balance holds them; a
    balance of exactly `needed` is enough)."""
    return max(0, needed - balance_on(source, business_id, on))


def report_deadlines(source: Source, business_id: str, first: str, last: str
                     ) -> list[ReportDeadline]:
    with reading(source) as tx:
        stated = {m: _day(paid) for m, paid in tx.execute(
            "SELECT month, paid_on FROM {kentaikyo_wage_payments} WHERE business_id = %s "
            "AND month >= %s AND month <= %s ORDER BY month, position", [business_id, first, last])}
        applied = {r for (r,) in tx.execute(
            "SELECT reference FROM {kentaikyo_account_entries} WHERE business_id = %s "
            "AND kind = 'use'", [business_id])}
    deadlines = []
    month = first
    while month <= last:
        paid = stated.get(month) or default_wage_payment(month)
        deadlines.append(ReportDeadline(business_id, month, paid, month in stated,
                                        report_due_on(paid), month in applied))
        month = add_months(month, 1)
    return deadlines


def due_reminders(source: Source, business_id: str, today: date, within_days: int
                  ) -> list[ReportDeadline]:
    """Reports not applied yet whose due date falls from `today` to `within_days` later."""
    first = add_months(month_of(today), -3)  # a due date is at most ~2 months after the work
    horizon = today + timedelta(days=within_days)
    return [d for d in report_deadlines(source, business_id, first, month_of(today))
            if not d.applied and today <= d.due_on <= horizon]


# -- 掛金充当の突合: coverage reconciliation per worker × month ----------------------------------
class Coverage(StrEnum):
    COVERED_ONCE = "covered_once"
    NOT_COVERED = "not_covered"  # an enrolled worker's eligible day no report paid for
    PAID_TWICE = "paid_twice"  # reports paid for the worker-day more than once
    NOT_ELIGIBLE = "not_eligible"  # not enrolled, stamp site, … (the reasons say which)


@dataclass(frozen=True)
class Contribution:
    payer_business_id: str  # the contracting employer whose report paid (the prime: 元請一括)
    site_id: str
    position: int  # the PointsUsed event


@dataclass(frozen=True)
class CoveredRecord:
    """A counted record behind a worker-day, as the caller may see it."""

    site_id: str
    employer_business_id: str | None
    event_positions: tuple[int, ...]


@dataclass(frozen=True)
class CoverageDay:
    """One worker-day, across sites and methods, with the records and payments behind it."""

    technician_id: str
    work_date: date
    coverage: Coverage
    reasons: tuple[str, ...]  # not eligible: why (Ineligibility values)
    records: tuple[CoveredRecord, ...]  # the caller's visible records that day
    paid: int  # how many payments for the worker-day, whoever made them
    contributions: tuple[Contribution, ...]  # the ones the caller may see

    @property
    def site_ids(self) -> tuple[str, ...]:
        return tuple(sorted({r.site_id for r in self.records}))

    @property
    def record_positions(self) -> tuple[int, ...]:
        return tuple(sorted({p for r in self.records for p in r.event_positions}))


@dataclass(frozen=True)
class Reconciliation:
    month: str
    days: tuple[CoverageDay, ...]  # by worker, then date

    def counts(self) -> dict[str, int]:
        return {c.value: sum(1 for d in self.days if d.coverage is c) for c in Coverage}


def reconcile(
    source: Source, month: str, only_sites_of_prime: str | None = None,
    only_employer: str | None = None, technician_id: str | None = None,
    only_sites: Collection[str] | None = None, employers: Collection[str] | None = None,
) -> Reconciliation:
    """Each worker-day of `month` in the scope (as `kentaikyo_month` scopes: the prime's sites,
    the employer's workers, one worker, given sites; `employers`: only lines of these
    employers; none: all) against the worker-days applied reports paid for. Eligibility is
    decided over all the worker's records (one day, one contribution), the payments over all
    payers (their number is shown, as "already covered" is); the caller sees the records of
    its scope and the payments made on the sites of those records: a subcontractor sees what
    the prime paid for its workers there, a prime what anyone paid on its sites."""
    report, visible = scoped_report(source, month, only_sites_of_prime, only_employer,
                                    technician_id, only_sites)
    if employers is not None:
        visible = [line for line in visible if line.employer_business_id in employers]
    eligible: set[tuple[str, date]] = set()
    reasons: dict[tuple[str, date], set[str]] = defaultdict(set)
    for line in report.lines:
        for day in line.days:
            if isinstance(day, Eligible):
                eligible.add((line.technician_id, day.work_date))
            elif isinstance(day, NotEligible):
                reasons[(line.technician_id, day.work_date)].add(day.reason.value)
    shown: dict[tuple[str, date], list[CoveredRecord]] = defaultdict(list)
    for line in visible:
        for day in line.days:
            key = (line.technician_id, day.work_date)
            shown[key].append(CoveredRecord(line.site_id, line.employer_business_id,
                                            day.event_positions))
    first, last = month_bounds(month)
    payments = _payments(source, sorted({t for t, _ in shown}), first, last)
    days = []
    for key in sorted(shown):
        paid = payments.get(key, [])
        sites = {r.site_id for r in shown[key]}
        count = len(paid)
        if key in eligible:
            coverage = (Coverage.NOT_COVERED if count == 0 else Coverage.COVERED_ONCE
                        if count == 1 else Coverage.PAID_TWICE)
        else:
            coverage = Coverage.NOT_ELIGIBLE
        days.append(CoverageDay(
            key[0], key[1], coverage, () if key in eligible else tuple(sorted(reasons[key])),
            tuple(sorted(shown[key], key=lambda r: (r.site_id, r.employer_business_id or ""))),
            count, tuple(c for c in paid if c.site_id in sites)))
    return Reconciliation(month, tuple(days))


def _payments(source: Source, workers: list[str], first: date, last: date
              ) -> dict[tuple[str, date], list[Contribution]]:
    found: dict[tuple[str, date], list[Contribution]] = defaultdict(list)
    with reading(source) as tx:
        for part in chunks(workers):
            where, params = tx.is_in("technician_id", part)
            for position, payer, worker, site, work_date in tx.execute(
                    "SELECT position, business_id, technician_id, site_id, work_date "
                    f"FROM {{kentaikyo_contributions}} WHERE {where} AND work_date >= %s "
                    "AND work_date <= %s ORDER BY position, site_id", [*params, first, last]):
                found[(worker, _day(work_date))].append(
                    Contribution(payer, site, int(position)))
    return found
