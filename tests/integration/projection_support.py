"""Helpers for projection tests: a comparable snapshot of every read-model table.

The tables come from the database's own catalog, not from a list kept by hand: a table a migration
adds is compared as soon as it exists, unless it is named below as deliberately not a read model
of the ledger projection. A table in neither place fails the snapshot, so it cannot be forgotten.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from projections.store import READ_MODEL_TABLES, ReadStore, Tx

# Tables in the same database that the ledger projection does not write, with the reason. A
# rebuild (`ledger replay`) leaves them alone, so comparing them would compare nothing it made.
NOT_READ_MODELS = {
    "stored_events": "the event log itself (SQLite)",
    "ledger_events": "the event log itself (PostgreSQL)",
    "api_keys": "auth keys, written by `ledger keys`",
    "api_key_scopes": "the sites or workers a key is scoped to, written with the key",
    "key_events": "the append-only record of keys issued, expired and revoked",
    "audit_reads": "the log of auditors' reads, written by the API",
    "projection_failures": "operations: the projection's last failure, for /v1/ready",
    "job_runs": "operations: the nightly jobs' runs",
    "job_locks": "operations: the nightly jobs' locks",
    "settlement_line_chunks": "write side: lines settlements and seals name by SHA-256",
    "settlement_line_sets": "write side: lines settlements and seals name by SHA-256",
    # The jobs' projection (projections/jobs/projection.py) follows the log on its own position and
    # is not rebuilt by `ledger replay`; its tables are the jobs' read models, not this one's.
    "day_close_exceptions": "the settlement projection (DayClose.Closed)",
    "day_closes": "the settlement projection (DayClose.Closed)",
    "daily_seals": "the settlement projection (DailySeal.Sealed)",
    "kentaikyo_settlements": "the settlement projection (KentaikyoSettlement.Issued)",
    "site_fee_bills": "the settlement projection (SiteFeeAccount.MonthBilled)",
}
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
    with a reason above."""
    tables = catalog_tables(tx) - set(NOT_READ_MODELS)
    rebuilt = set(READ_MODEL_TABLES)
    assert tables == rebuilt, (
        f"tables neither rebuilt by `ledger replay` nor excluded in NOT_READ_MODELS: "
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
