"""建退共の口座, read: the balance per month, what a report would be short of, and reports' due
dates from the wage-payment dates (with reminders before them). Reads the read models only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ledger.clock import end_of_month
from ledger.domain.kentaikyo_account import default_wage_payment, report_due_on
from ledger.domain.settlement.rules import add_months, month_of, parse_month
from projections.store import ReadStore, as_date


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


def _entries(store: ReadStore, business_id: str, last: date) -> list[tuple[str, date, int]]:
    with store.read() as tx:
        rows = tx.execute(
            "SELECT kind, entry_date, points FROM {kentaikyo_account_entries} "
            "WHERE business_id = %s AND entry_date <= %s ORDER BY entry_date, position",
            [business_id, last])
    return [(kind, _day(on), int(points)) for kind, on, points in rows]


def account_months(store: ReadStore, business_id: str, first: str, last: str
                   ) -> list[AccountMonth]:
    """Each month from `first` to `last` (YYYY-MM, inclusive): opening balance, points bought,
    credited and used in it."""
    start, end = parse_month(first), end_of_month(parse_month(last))
    entries = _entries(store, business_id, end)
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


def balance_on(store: ReadStore, business_id: str, day: date) -> int:
    return sum(_signed(k, p) for k, _, p in _entries(store, business_id, day))


def shortfall(store: ReadStore, business_id: str, needed: int, on: date) -> int:
    """How many points a report needing `needed` on `on` lacks (0: the balance holds them; a
    balance of exactly `needed` is enough)."""
    return max(0, needed - balance_on(store, business_id, on))


def report_deadlines(store: ReadStore, business_id: str, first: str, last: str
                     ) -> list[ReportDeadline]:
    with store.read() as tx:
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


def due_reminders(store: ReadStore, business_id: str, today: date, within_days: int
                  ) -> list[ReportDeadline]:
    """Reports not applied yet whose due date falls from `today` to `within_days` later."""
    first = add_months(month_of(today), -3)  # a due date is at most ~2 months after the work
    horizon = today + timedelta(days=within_days)
    return [d for d in report_deadlines(store, business_id, first, month_of(today))
            if not d.applied and today <= d.due_on <= horizon]
