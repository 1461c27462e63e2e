"""Helpers for projection tests: a comparable snapshot of every read-model table.

The tables come from the database's own catalog, not from a list kept by hand: a table a migration
adds is compared as soon as it exists, unless it is named as deliberately not a read model
(`projections.read_model_check.NOT_READ_MODELS`) or as the settlement projection's (below). A
table in neither place fails the snapshot, so it cannot be forgotten.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from projections.read_model_check import NOT_READ_MODELS
from projections.store import READ_MODEL_TABLES, ReadStore, Tx

# The tables that are not read models at all (the log, keys, audit reads, jobs' bookkeeping,
# positions, projection failures, migrations' bookkeeping): the one list, kept with the reason
# for each beside the read-model check that uses it too.
# The ledger projection's own position row is compared here like any other table (the check
# compares positions apart, since it builds its shadow up to the live ones).
COMPARED_POSITIONS = frozenset({"projection_positions"})
# The settlement projection (projections/settlement.py) follows the log on its own position
# and is not rebuilt by `ledger replay`; its tables are the jobs' read models, not this one's.
SETTLEMENT_TABLES = frozenset({
    "day_close_exceptions", "day_closes", "daily_seals", "kentaikyo_settlements",
    "site_fee_bills",
})
EXCLUDED = (NOT_READ_MODELS - COMPARED_POSITIONS) | SETTLEMENT_TABLES
MIGRATION_TOOL_PREFIXES = ("_yoyo", "yoyo")  # yoyo's own bookkeeping


def catalog_tables(tx: Tx) -> set[str]:
    """Every table of the database, as its catalog lists it."""
    if tx.sqlite:
        rows = tx.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = tx.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    return {str(name) for (name,) in rows if not str(name).startswith(MIGRATION_TOOL_PREFIXES)}


def read_model_tables(tx: Tx) -> list[str]:
    """The catalog's tables less the deliberate exclusions; checked against what a rebuild
    rebuilds (`READ_MODEL_TABLES`), so a new table is either compared and rebuilt, or excluded
    with a reason in `projections.read_model_check.NOT_READ_MODELS` (or above)."""
    tables = catalog_tables(tx) - EXCLUDED
    rebuilt = set(READ_MODEL_TABLES)
    assert tables == rebuilt, (
        f"tables neither rebuilt by `ledger replay` nor excluded (NOT_READ_MODELS, "
        f"SETTLEMENT_TABLES): "
        f"{sorted(tables - rebuilt)}; rebuilt but absent: {sorted(rebuilt - tables)}"
    )
    return sorted(tables)


def _normal(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(store: ReadStore) -> Snapshot:
    """Every read-model row, normalised so SQLite and PostgreSQL snapshots compare equal."""
    with store.read() as tx:
        return {
            table: sorted(
                tuple(_normal(v) for v in row) for row in tx.execute(f"SELECT * FROM {table}")
            )
            for table in read_model_tables(tx)
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
