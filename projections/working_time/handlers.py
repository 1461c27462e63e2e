"""Projection of the working-time events, in the ledger projection's dispatch.

Each row is the latest report of its day or month, with the log positions of every event behind
it (corrections included), so an auditor can ask why.

Reports (`WorkingTimeMonth`) come by the hundred thousand (a report a worker-month, or a day),
so the projection collects a batch's reports (`Reports`) and writes them at its end, a few bulk
statements a batch instead of a few round trips an event: the latest figures of each day, then
each month touched, whose day sums are computed again from its days (so a correction counts
once, whatever the batch boundaries) and whose positions grow by the batch's, in log order.
The other events are rare and go one at a time (`HANDLERS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import orjson

from ledger.domain.labour_rules import add_months
from ledger.domain.working_time import OvertimeAgreement, SiteTerms, WorkingTimeMonth
from projections.decoding import EventClass
from projections.registry import handles
from projections.store import Tx

STARTED: EventClass = WorkingTimeMonth.Started  # type: ignore[attr-defined]
DAY: EventClass = WorkingTimeMonth.DayReported  # type: ignore[attr-defined]
MONTH: EventClass = WorkingTimeMonth.MonthReported  # type: ignore[attr-defined]
# Projected by `Reports`, after the batch's other events. Their `technician_id` names no
# registry change of the worker's: the work records need not look at the worker again.
EVENTS: frozenset[EventClass] = frozenset({STARTED, DAY, MONTH})

MonthKey = tuple[str, str, date]  # technician, employer, first day of the month


def _json(positions: Sequence[int]) -> str:
    return orjson.dumps(list(positions)).decode()


def _appended(table: str) -> str:
    """SQL: the row's JSON array of positions followed by the new row's (both never empty)."""
    return (f"substr({{{table}}}.positions, 1, length({{{table}}}.positions) - 1) || ',' || "
            "substr(excluded.positions, 2)")


_UPSERT_DAY = (
    "INSERT INTO {working_time_days} (technician_id, employer_business_id, work_date, "
    "statutory_minutes, overtime_minutes, holiday_minutes, reported_by, reported_at, reason, "
    "positions) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (technician_id, employer_business_id, work_date) DO UPDATE SET "
    "statutory_minutes = excluded.statutory_minutes, overtime_minutes = excluded.overtime_minutes, "
    "holiday_minutes = excluded.holiday_minutes, reported_by = excluded.reported_by, "
    "reported_at = excluded.reported_at, reason = excluded.reason, "
    f"positions = {_appended('working_time_days')}"
)
# A month's row: its days' sums from the days table, its own report if the batch brought one
# (else the one it had), and the batch's positions after those it had.
_UPSERT_MONTH = (
    "INSERT INTO {working_time_months} (technician_id, employer_business_id, month, "
    "days_reported, day_statutory_minutes, day_overtime_minutes, day_holiday_minutes, "
    "month_statutory_minutes, month_overtime_minutes, month_holiday_minutes, positions) "
    "SELECT %s, %s, %s, COUNT(*), COALESCE(SUM(statutory_minutes), 0), "
    "COALESCE(SUM(overtime_minutes), 0), COALESCE(SUM(holiday_minutes), 0), "
    # typed for PostgreSQL, which reads an untyped NULL in a select list as text
    "CAST(%s AS INTEGER), CAST(%s AS INTEGER), CAST(%s AS INTEGER), %s "
    "FROM {working_time_days} WHERE technician_id = %s AND employer_business_id = %s "
    "AND work_date >= %s AND work_date <= %s "
    "ON CONFLICT (technician_id, employer_business_id, month) DO UPDATE SET "
    "days_reported = excluded.days_reported, "
    "day_statutory_minutes = excluded.day_statutory_minutes, "
    "day_overtime_minutes = excluded.day_overtime_minutes, "
    "day_holiday_minutes = excluded.day_holiday_minutes, "
    "month_statutory_minutes = COALESCE(excluded.month_statutory_minutes, "
    "{working_time_months}.month_statutory_minutes), "
    "month_overtime_minutes = COALESCE(excluded.month_overtime_minutes, "
    "{working_time_months}.month_overtime_minutes), "
    "month_holiday_minutes = COALESCE(excluded.month_holiday_minutes, "
    "{working_time_months}.month_holiday_minutes), "
    f"positions = {_appended('working_time_months')}"
)


@dataclass
class _Month:
    positions: list[int] = field(default_factory=list)
    reported: tuple[int, int, int] | None = None  # the batch's latest month report


@dataclass
class Reports:
    """A batch's working-time reports, written at the batch's end (`flush`)."""

    days: dict[tuple[str, str, date], list[Any]] = field(default_factory=dict)
    months: dict[MonthKey, _Month] = field(default_factory=dict)

    def add(self, position: int, event_class: EventClass, e: dict[str, Any]) -> None:
        if event_class is STARTED:
            return  # every report names its worker, employer and month itself
        key = (e["technician_id"], e["employer_business_id"], e["month"])
        month = self.months.setdefault(key, _Month())
        month.positions.append(position)
        figures = [e["statutory_minutes"], e["overtime_minutes"], e["holiday_minutes"]]
        if event_class is MONTH:
            month.reported = (figures[0], figures[1], figures[2])
            return
        day_key = (e["technician_id"], e["employer_business_id"], e["work_date"])
        earlier = self.days.get(day_key)
        positions = [*earlier[-1], position] if earlier else [position]
        self.days[day_key] = [*day_key, *figures, str(e["actor"]), e["reported_at"],
                              e["reason"], positions]

    def flush(self, tx: Tx) -> None:
        if self.days:
            tx.executemany(_UPSERT_DAY, [[*row[:-1], _json(row[-1])]
                                         for row in self.days.values()])
        if self.months:
            rows = []
            for (technician_id, employer, month), found in self.months.items():
                last = add_months(month, 1) - timedelta(days=1)
                reported = found.reported or (None, None, None)
                rows.append([technician_id, employer, month, *reported, _json(found.positions),
                             technician_id, employer, month, last])
            tx.executemany(_UPSERT_MONTH, rows)
        self.days.clear()
        self.months.clear()


# -- 36 agreements and disaster work ------------------------------------------------------------

@handles(OvertimeAgreement.Started)  # type: ignore[attr-defined]
def agreement_started(tx: Tx, position: int, e: dict[str, Any]) -> None:
    """Nothing to keep: each later event names its business."""


@handles(OvertimeAgreement.Concluded)  # type: ignore[attr-defined]
def agreement_concluded(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {overtime_agreements} (business_id, start_month, special_clause, "
        "concluded_by, reason, positions) VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (business_id, start_month) DO UPDATE SET "
        "special_clause = excluded.special_clause, concluded_by = excluded.concluded_by, "
        f"reason = excluded.reason, positions = {_appended('overtime_agreements')}",
        [e["business_id"], e["start_month"], e["special_clause"], str(e["actor"]), e["reason"],
         _json([position])],
    )


@handles(OvertimeAgreement.DisasterWorkDeclared)  # type: ignore[attr-defined]
def disaster_declared(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {disaster_work_periods} (position, business_id, first_day, last_day, "
        "reason, declared_by) VALUES (%s, %s, %s, %s, %s, %s)",
        [position, e["business_id"], e["first_day"], e["last_day"], e["reason"],
         str(e["actor"])],
    )


@handles(OvertimeAgreement.DisasterWorkWithdrawn)  # type: ignore[attr-defined]
def disaster_withdrawn(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "UPDATE {disaster_work_periods} SET withdrawn_position = %s WHERE business_id = %s "
        "AND first_day = %s AND last_day = %s AND withdrawn_position IS NULL",
        [position, e["business_id"], e["first_day"], e["last_day"]],
    )


# -- a site's terms ------------------------------------------------------------------------------

@handles(SiteTerms.Started)  # type: ignore[attr-defined]
def terms_started(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {site_terms} (site_id, orderer_business_id, rotating_shifts, positions) "
        "VALUES (%s, NULL, %s, %s)", [e["site_id"], False, _json([position])])


def _set_terms(tx: Tx, position: int, site_id: str, column: str, value: object) -> None:
    tx.execute(
        f"UPDATE {{site_terms}} SET {column} = %s, positions = "
        "substr(positions, 1, length(positions) - 1) || ',' || %s || ']' WHERE site_id = %s",
        [value, str(position), site_id])


@handles(SiteTerms.OrdererNamed)  # type: ignore[attr-defined]
def orderer_named(tx: Tx, position: int, e: dict[str, Any]) -> None:
    _set_terms(tx, position, e["site_id"], "orderer_business_id", e["orderer_business_id"])


@handles(SiteTerms.ShiftsSet)  # type: ignore[attr-defined]
def shifts_set(tx: Tx, position: int, e: dict[str, Any]) -> None:
    _set_terms(tx, position, e["site_id"], "rotating_shifts", bool(e["rotating_shifts"]))


@handles(SiteTerms.PeriodExcluded)  # type: ignore[attr-defined]
def period_excluded(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {closure_exclusions} (position, site_id, first_day, last_day, kind, reason, "
        "excluded_by) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [position, e["site_id"], e["first_day"], e["last_day"], e["kind"].value, e["reason"],
         str(e["actor"])],
    )


@handles(SiteTerms.ExclusionWithdrawn)  # type: ignore[attr-defined]
def exclusion_withdrawn(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "UPDATE {closure_exclusions} SET withdrawn_position = %s WHERE site_id = %s "
        "AND first_day = %s AND last_day = %s AND withdrawn_position IS NULL",
        [position, e["site_id"], e["first_day"], e["last_day"]],
    )
