"""Helpers for projection tests: a comparable snapshot of every read-model table."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from projections.store import READ_MODEL_TABLES, ReadStore


def _normal(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def snapshot(store: ReadStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, normalised so SQLite and PostgreSQL snapshots compare equal."""
    with store.read() as tx:
        return {
            table: sorted(
                tuple(_normal(v) for v in row) for row in tx.execute(f"SELECT * FROM {{{table}}}")
            )
            for table in READ_MODEL_TABLES
        }


def day_months_of(records: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The `work_day_months` rows that a snapshot's `work_records` rows make, counted here from
    the records one by one (not by `projections.work_days`)."""
    bits: dict[tuple[Any, ...], int] = {}
    for technician, site, work_date, employer, trade, *_, status, _flags, _events in records:
        if status == "counted":
            day = date.fromisoformat(work_date)
            key = (technician, day.replace(day=1).isoformat(), site, employer or "", trade or "")
            bits[key] = bits.get(key, 0) | 1 << (day.day - 1)
    return sorted((*key, day_bits) for key, day_bits in bits.items())
