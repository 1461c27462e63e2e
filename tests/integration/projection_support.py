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
