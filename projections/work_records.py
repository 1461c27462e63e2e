"""就業履歴: rebuild the work records a batch of events touched, from the stored taps and requests.

A record is recomputed from everything known about its worker and site around its date, never
patched, so the incremental projection, a full rebuild and a rebuild after a crash agree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson

from ledger.clock import JST
from projections.derive import CardDay, TapFact, derive_card_days
from projections.records import RecordSource, RecordStatus
from projections.store import Tx, as_date, as_datetime, sqlite_value

# Taps with these flags are kept for the exceptions list but make no record.
NOT_COUNTED_FLAGS = frozenset({"unknown_card", "revoked_card", "unregistered_reader"})
WINDOW_BEFORE, WINDOW_AFTER = timedelta(days=3), timedelta(days=3)

Pair = tuple[str, str]  # (technician_id, site_id)


@dataclass(frozen=True)
class Request:
    request_id: str
    kind: str  # ManualEntry | Correction
    work_date: date
    employer_business_id: str
    payload: dict[str, Any]
    status: str
    positions: tuple[int, ...]

    @property
    def decided_position(self) -> int:
        return self.positions[-1]


@dataclass
class Context:
    """What the records of the affected workers are computed from."""

    taps: dict[Pair, list[TapFact]]
    requests: dict[tuple[str, str, date], list[Request]]
    roster: dict[Pair, list[tuple[int, str, str, str]]]  # (from_position, employer, trade, role)
    employments: dict[str, list[tuple[str, date, date | None, bool]]]
    stored: dict[tuple[str, str, date], tuple[Any, ...]]  # the records as they are now


RECORD_COLUMNS = (
    "technician_id",
    "site_id",
    "work_date",
    "employer_business_id",
    "trade",
    "role_position",
    "work_content",
    "first_entry",
    "last_exit",
    "minutes_on_site",
    "source",
    "status",
    "flags",
    "event_positions",
)


def rebuild_records(tx: Tx, affected: dict[Pair, set[date]], max_shift: timedelta) -> None:
    targets = {
        pair: {d + timedelta(days=k) for d in dates for k in (-1, 0, 1)}
        for pair, dates in affected.items()
    }
    context = _load_context(tx, affected)
    changed: list[tuple[str, str, date]] = []
    rows: list[list[Any]] = []
    for (technician_id, site_id), dates in targets.items():
        days = _days_by_date(
            derive_card_days(context.taps.get((technician_id, site_id), []), max_shift)
        )
        for work_date in sorted(dates):
            key = (technician_id, site_id, work_date)
            row = _record_row(technician_id, site_id, work_date, days.get(work_date), context)
            stored = context.stored.get(key)
            if row is not None and stored is not None and _same(row, stored, tx.sqlite):
                continue  # most of a batch's neighbouring days did not change: leave them be
            if stored is not None:
                changed.append(key)
            if row is not None:
                rows.append(row)
    tx.delete_keys("work_records", RECORD_COLUMNS[:3], ("text", "text", "date"), changed)
    tx.append_rows("work_records", RECORD_COLUMNS, rows)


def _same(row: list[Any], stored: tuple[Any, ...], sqlite: bool) -> bool:
    if sqlite:
        return tuple(sqlite_value(v) for v in row) == stored
    return tuple(row) == stored


def _days_by_date(days: list[CardDay]) -> dict[date, CardDay]:
    merged: dict[date, CardDay] = {}
    for day in days:
        if day.work_date in merged:  # only with a max_shift under a day; keep one record a date
            merged[day.work_date].taps.extend(day.taps)
        else:
            merged[day.work_date] = day
    return merged


def _load_context(tx: Tx, affected: dict[Pair, set[date]]) -> Context:
    technicians = sorted({technician for technician, _ in affected})
    all_dates = {d for dates in affected.values() for d in dates}
    low = min(all_dates) - WINDOW_BEFORE
    high = max(all_dates) + WINDOW_AFTER
    worker_in, worker_params = tx.is_in("technician_id", technicians)
    context = Context(
        defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(list), {}
    )
    for tech, site, tap_id, at, direction, position, flags in tx.execute(
        "SELECT technician_id, site_id, tap_id, reader_time, direction, position, flags "
        f"FROM {{tap_facts}} WHERE {worker_in} AND reader_time >= %s AND reader_time < %s",
        [*worker_params, datetime.combine(low, time(0), JST), datetime.combine(high, time(0), JST)],
    ):
        tap_flags = tuple(orjson.loads(flags))
        reader_time = as_datetime(at)
        assert reader_time is not None  # NOT NULL column
        if site is not None and not NOT_COUNTED_FLAGS.intersection(tap_flags):
            context.taps[(tech, site)].append(
                TapFact(tap_id, reader_time, direction, position, tap_flags)
            )
    for row in tx.execute(
        "SELECT request_id, kind, technician_id, site_id, work_date, employer_business_id, "
        f"payload, status, positions FROM {{requests}} WHERE {worker_in} "
        "AND work_date >= %s AND work_date <= %s",
        [*worker_params, low, high],
    ):
        work_date = as_date(row[4])
        assert work_date is not None
        context.requests[(row[2], row[3], work_date)].append(
            Request(
                row[0],
                row[1],
                work_date,
                row[5],
                orjson.loads(row[6]),
                row[7],
                tuple(orjson.loads(row[8])),
            )
        )
    for site, tech, from_position, employer, trade, role in tx.execute(
        "SELECT site_id, technician_id, from_position, employer_business_id, trade, role_position "
        f"FROM {{roster_history}} WHERE {worker_in}",
        worker_params,
    ):
        context.roster[(tech, site)].append((from_position, employer, trade, role))
    for tech, business, since, until, primary in tx.execute(
        "SELECT technician_id, business_id, since, until, is_primary "
        f"FROM {{worker_employments}} WHERE {worker_in}",
        worker_params,
    ):
        context.employments[tech].append((business, as_date(since), as_date(until), bool(primary)))  # type: ignore[arg-type]
    for row in tx.execute(
        f"SELECT {', '.join(RECORD_COLUMNS)} FROM {{work_records}} WHERE {worker_in} "
        "AND work_date >= %s AND work_date <= %s",
        [*worker_params, low, high],
    ):
        context.stored[(row[0], row[1], as_date(row[2]))] = tuple(row)  # type: ignore[index]
    return context


def _record_row(
    technician_id: str, site_id: str, work_date: date, day: CardDay | None, context: Context
) -> list[Any] | None:
    requests = sorted(
        context.requests.get((technician_id, site_id, work_date), []),
        key=lambda r: r.decided_position,
    )
    entries = [r for r in requests if r.kind == "ManualEntry"]
    corrections = [r for r in requests if r.kind == "Correction"]
    approved = [r for r in entries if r.status == "approved"]
    fields: dict[str, Any]
    flags: set[str] = set()
    positions: set[int] = {p for r in requests for p in r.positions}
    if day is not None:
        fields = _card_fields(technician_id, site_id, work_date, day, context)
        flags.update(day.flags)
        positions.update(day.positions)
        source, status = RecordSource.CARD, RecordStatus.COUNTED
        if not context.roster.get((technician_id, site_id)):
            flags.add("not_on_roster")
    elif approved:
        fields = {"employer": approved[-1].employer_business_id}
        source, status = RecordSource.MANUAL, RecordStatus.COUNTED
    elif entries:
        latest = entries[-1]
        fields = {"employer": latest.employer_business_id}
        source, status = RecordSource.MANUAL, RecordStatus(latest.status)
        _apply(fields, latest.payload)
    else:
        return None
    for entry in approved:
        _apply(fields, entry.payload)
        if day is not None:
            source = RecordSource.CORRECTED
    if any(r.status == "pending" for r in entries) and status is RecordStatus.COUNTED:
        flags.add("entry_pending")
    for correction in corrections:
        if correction.status == "approved":
            _apply(fields, correction.payload.get("changes", {}))
            source = RecordSource.CORRECTED
        elif correction.status == "pending":
            flags.add("correction_pending")
    if fields.get("last_exit") is not None:
        flags.discard("missing_exit")
    if fields.get("first_entry") is not None:
        flags.discard("missing_entry")
    first, last = fields.get("first_entry"), fields.get("last_exit")
    minutes = int((last - first).total_seconds() // 60) if first and last else None
    return [
        technician_id,
        site_id,
        work_date,
        fields.get("employer"),
        fields.get("trade"),
        fields.get("position"),
        fields.get("work_content"),
        first,
        last,
        minutes,
        source.value,
        status.value,
        orjson.dumps(sorted(flags)).decode(),
        orjson.dumps(sorted(positions)).decode(),
    ]


def _card_fields(
    technician_id: str, site_id: str, work_date: date, day: CardDay, context: Context
) -> dict[str, Any]:
    """Trade, position and employer from the roster as it was when the day's first tap came."""
    fields: dict[str, Any] = {"first_entry": day.first_entry, "last_exit": day.last_exit}
    entries = [
        e for e in context.roster.get((technician_id, site_id), []) if e[0] < day.first_tap.position
    ]
    if entries:
        _, employer, trade, role = max(entries)
        fields |= {"employer": employer, "trade": trade, "position": role}
    else:
        fields["employer"] = _employer_on(context.employments.get(technician_id, []), work_date)
    return fields


def _employer_on(employments: list[tuple[str, date, date | None, bool]], day: date) -> str | None:
    covering = [
        (not primary, business)
        for business, since, until, primary in employments
        if since <= day and (until is None or day <= until)
    ]
    return min(covering)[1] if covering else None


def _apply(fields: dict[str, Any], payload: dict[str, Any]) -> None:
    for key in ("trade", "position", "work_content"):
        if payload.get(key) is not None:
            fields[key] = payload[key]
    for key, target in (("entry_at", "first_entry"), ("exit_at", "last_exit")):
        if payload.get(key) is not None:
            fields[target] = as_datetime(payload[key])
