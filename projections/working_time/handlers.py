"""Projection of the working-time events, registered in the ledger projection's dispatch.

Each row is the latest report of its day or month, with the log positions of every event behind
it (corrections included), so an auditor can ask why. The monitor's month row is kept as each
report comes: a day report changes the month's day sums by the difference to that day's previous
report, so a month costs one row whatever its number of corrections.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson

from ledger.domain.working_time import OvertimeAgreement, SiteTerms, WorkingTimeMonth
from projections.decoding import EventClass
from projections.registry import handles
from projections.store import Tx

MONTH_KIND = WorkingTimeMonth.__name__
AGREEMENT_KIND = OvertimeAgreement.__name__
TERMS_KIND = SiteTerms.__name__

# Their `technician_id` names no registry change of the worker's: the work records need not
# look at the worker again (`projections.projector`).
EVENTS: frozenset[EventClass] = frozenset({
    WorkingTimeMonth.Started,  # type: ignore[attr-defined]
    WorkingTimeMonth.DayReported,  # type: ignore[attr-defined]
    WorkingTimeMonth.MonthReported,  # type: ignore[attr-defined]
})


def _json(positions: list[int]) -> str:
    return orjson.dumps(positions).decode()


def _remember(tx: Tx, state: dict[str, Any], kind: str, key: str) -> None:
    tx.execute(
        "INSERT INTO {aggregate_keys} (aggregate_id, kind, natural_key) VALUES (%s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        [str(state["originator_id"]), kind, key],
    )


def _key(tx: Tx, state: dict[str, Any]) -> str:
    rows = tx.execute("SELECT natural_key FROM {aggregate_keys} WHERE aggregate_id = %s",
                      [str(state["originator_id"])])
    return str(rows[0][0])


def _month_key(tx: Tx, state: dict[str, Any]) -> tuple[str, str, date]:
    employer, technician_id, month = _key(tx, state).split(":")
    return employer, technician_id, date.fromisoformat(month + "-01")


@handles(WorkingTimeMonth.Started)  # type: ignore[attr-defined]
def month_started(tx: Tx, position: int, e: dict[str, Any]) -> None:
    _remember(tx, e, MONTH_KIND,
              f"{e['employer_business_id']}:{e['technician_id']}:{e['month']:%Y-%m}")


_MONTH_COLUMNS = (
    "days_reported, day_statutory_minutes, day_overtime_minutes, day_holiday_minutes, "
    "month_statutory_minutes, month_overtime_minutes, month_holiday_minutes, positions")


def _month_row(tx: Tx, employer: str, technician_id: str, month: date) -> list[Any]:
    rows = tx.execute(
        f"SELECT {_MONTH_COLUMNS} FROM {{working_time_months}} "
        "WHERE technician_id = %s AND employer_business_id = %s AND month = %s",
        [technician_id, employer, month],
    )
    if rows:
        row = list(rows[0])
        row[-1] = orjson.loads(row[-1])
        return row
    return [0, 0, 0, 0, None, None, None, []]


def _store_month(tx: Tx, employer: str, technician_id: str, month: date, row: list[Any]) -> None:
    tx.execute(
        "INSERT INTO {working_time_months} (technician_id, employer_business_id, month, "
        f"{_MONTH_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (technician_id, employer_business_id, month) DO UPDATE SET "
        "days_reported = excluded.days_reported, "
        "day_statutory_minutes = excluded.day_statutory_minutes, "
        "day_overtime_minutes = excluded.day_overtime_minutes, "
        "day_holiday_minutes = excluded.day_holiday_minutes, "
        "month_statutory_minutes = excluded.month_statutory_minutes, "
        "month_overtime_minutes = excluded.month_overtime_minutes, "
        "month_holiday_minutes = excluded.month_holiday_minutes, "
        "positions = excluded.positions",
        [technician_id, employer, month, *row[:-1], _json(row[-1])],
    )


@handles(WorkingTimeMonth.DayReported)  # type: ignore[attr-defined]
def day_reported(tx: Tx, position: int, e: dict[str, Any]) -> None:
    employer, technician_id, month = _month_key(tx, e)
    figures = [e["statutory_minutes"], e["overtime_minutes"], e["holiday_minutes"]]
    before = tx.execute(
        "SELECT statutory_minutes, overtime_minutes, holiday_minutes, positions "
        "FROM {working_time_days} WHERE technician_id = %s AND employer_business_id = %s "
        "AND work_date = %s",
        [technician_id, employer, e["work_date"]],
    )
    previous = [0, 0, 0] if not before else list(before[0][:3])
    day_positions = [*orjson.loads(before[0][3]), position] if before else [position]
    tx.execute(
        "INSERT INTO {working_time_days} (technician_id, employer_business_id, work_date, "
        "statutory_minutes, overtime_minutes, holiday_minutes, reported_by, reported_at, reason, "
        "positions) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (technician_id, employer_business_id, work_date) DO UPDATE SET "
        "statutory_minutes = excluded.statutory_minutes, "
        "overtime_minutes = excluded.overtime_minutes, "
        "holiday_minutes = excluded.holiday_minutes, reported_by = excluded.reported_by, "
        "reported_at = excluded.reported_at, reason = excluded.reason, "
        "positions = excluded.positions",
        [technician_id, employer, e["work_date"], *figures, str(e["actor"]), e["reported_at"],
         e["reason"], _json(day_positions)],
    )
    row = _month_row(tx, employer, technician_id, month)
    row[0] += 0 if before else 1
    for i in range(3):
        row[1 + i] += figures[i] - previous[i]
    row[-1] = [*row[-1], position]
    _store_month(tx, employer, technician_id, month, row)


@handles(WorkingTimeMonth.MonthReported)  # type: ignore[attr-defined]
def month_reported(tx: Tx, position: int, e: dict[str, Any]) -> None:
    employer, technician_id, month = _month_key(tx, e)
    row = _month_row(tx, employer, technician_id, month)
    row[4:7] = [e["statutory_minutes"], e["overtime_minutes"], e["holiday_minutes"]]
    row[-1] = [*row[-1], position]
    _store_month(tx, employer, technician_id, month, row)


# -- 36 agreements and disaster work ------------------------------------------------------------

@handles(OvertimeAgreement.Started)  # type: ignore[attr-defined]
def agreement_started(tx: Tx, position: int, e: dict[str, Any]) -> None:
    _remember(tx, e, AGREEMENT_KIND, e["business_id"])


@handles(OvertimeAgreement.Concluded)  # type: ignore[attr-defined]
def agreement_concluded(tx: Tx, position: int, e: dict[str, Any]) -> None:
    business_id = _key(tx, e)
    before = tx.execute(
        "SELECT positions FROM {overtime_agreements} WHERE business_id = %s AND start_month = %s",
        [business_id, e["start_month"]],
    )
    positions = [*orjson.loads(before[0][0]), position] if before else [position]
    tx.execute(
        "INSERT INTO {overtime_agreements} (business_id, start_month, special_clause, "
        "concluded_by, reason, positions) VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (business_id, start_month) DO UPDATE SET "
        "special_clause = excluded.special_clause, concluded_by = excluded.concluded_by, "
        "reason = excluded.reason, positions = excluded.positions",
        [business_id, e["start_month"], e["special_clause"], str(e["actor"]), e["reason"],
         _json(positions)],
    )


@handles(OvertimeAgreement.DisasterWorkDeclared)  # type: ignore[attr-defined]
def disaster_declared(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {disaster_work_periods} (position, business_id, first_day, last_day, "
        "reason, declared_by) VALUES (%s, %s, %s, %s, %s, %s)",
        [position, _key(tx, e), e["first_day"], e["last_day"], e["reason"], str(e["actor"])],
    )


@handles(OvertimeAgreement.DisasterWorkWithdrawn)  # type: ignore[attr-defined]
def disaster_withdrawn(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "UPDATE {disaster_work_periods} SET withdrawn_position = %s WHERE business_id = %s "
        "AND first_day = %s AND last_day = %s AND withdrawn_position IS NULL",
        [position, _key(tx, e), e["first_day"], e["last_day"]],
    )


# -- a site's terms ------------------------------------------------------------------------------

def _terms(tx: Tx, site_id: str) -> tuple[str | None, bool, list[int]]:
    rows = tx.execute(
        "SELECT orderer_business_id, rotating_shifts, positions FROM {site_terms} "
        "WHERE site_id = %s", [site_id])
    return rows[0][0], bool(rows[0][1]), orjson.loads(rows[0][2])


def _store_terms(
    tx: Tx, site_id: str, orderer: str | None, rotating: bool, positions: list[int]
) -> None:
    tx.execute(
        "UPDATE {site_terms} SET orderer_business_id = %s, rotating_shifts = %s, positions = %s "
        "WHERE site_id = %s", [orderer, rotating, _json(positions), site_id])


@handles(SiteTerms.Started)  # type: ignore[attr-defined]
def terms_started(tx: Tx, position: int, e: dict[str, Any]) -> None:
    _remember(tx, e, TERMS_KIND, e["site_id"])
    tx.execute(
        "INSERT INTO {site_terms} (site_id, orderer_business_id, rotating_shifts, positions) "
        "VALUES (%s, NULL, %s, %s)", [e["site_id"], False, _json([position])])


@handles(SiteTerms.OrdererNamed)  # type: ignore[attr-defined]
def orderer_named(tx: Tx, position: int, e: dict[str, Any]) -> None:
    site_id = _key(tx, e)
    _, rotating, positions = _terms(tx, site_id)
    _store_terms(tx, site_id, e["orderer_business_id"], rotating, [*positions, position])


@handles(SiteTerms.ShiftsSet)  # type: ignore[attr-defined]
def shifts_set(tx: Tx, position: int, e: dict[str, Any]) -> None:
    site_id = _key(tx, e)
    orderer, _, positions = _terms(tx, site_id)
    _store_terms(tx, site_id, orderer, bool(e["rotating_shifts"]), [*positions, position])


@handles(SiteTerms.PeriodExcluded)  # type: ignore[attr-defined]
def period_excluded(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {closure_exclusions} (position, site_id, first_day, last_day, kind, reason, "
        "excluded_by) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [position, _key(tx, e), e["first_day"], e["last_day"], e["kind"].value, e["reason"],
         str(e["actor"])],
    )


@handles(SiteTerms.ExclusionWithdrawn)  # type: ignore[attr-defined]
def exclusion_withdrawn(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "UPDATE {closure_exclusions} SET withdrawn_position = %s WHERE site_id = %s "
        "AND first_day = %s AND last_day = %s AND withdrawn_position IS NULL",
        [position, _key(tx, e), e["first_day"], e["last_day"]],
    )

