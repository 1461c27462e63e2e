"""The read side checks itself: rebuild every read model from the log into a shadow and compare.

A read-model row changed behind the projection's back (a month's day bits, a record's trade, a
row deleted or added) is noticed by nothing else: queries answer from the tables as they are.
The check rebuilds the read models from the log into a shadow of the same database kind (a
temporary schema on PostgreSQL, a temporary file on SQLite), so values compare with their exact
types, and compares every read-model table with the live one.

One position: the live tables keep moving while the shadow is built. The live side is read in one
snapshot (REPEATABLE READ on PostgreSQL, one read transaction on SQLite's WAL) opened before the
rebuild starts; the projections' positions are read in that snapshot, and the shadow is built up
to exactly those positions. Nothing is paused.

Memory is bounded whatever the log's length: the rebuild runs in the projection's batches, and
the comparison streams one digest per group (a worker's taps, a worker's records at a site, a
worker's month …), in group order, from both sides at once. Only the groups whose digests differ
are read row by row, to name the first differences.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ledger.application import Ledger
from ledger.settings import Settings
from projections.follower import DEFAULT_BATCH, LogFollower
from projections.projector import LedgerProjection
from projections.settlement import NAME as DECISIONS
from projections.settlement import catch_up as project_decisions
from projections.store import ReadStore

# Tables in the read side's database that are not read models. Every other table is compared, so
# a new read-model table cannot be left out by forgetting it here: one that no projection
# rebuilds shows all its rows as "not in the log" and fails the check until it is rebuilt (or,
# if it is not derived from the log, named here with the reason).
NOT_READ_MODELS = frozenset({
    # the log itself, which the read models are compared against
    "stored_events", "ledger_events",
    # written by the API, not derived from the log: keys, and the audit log of auditors' reads
    "api_keys", "api_key_scopes", "key_events", "audit_reads",
    # the web app's sessions (0017): access, not facts
    "web_sessions",
    # as-of replays asked for and their answers (0020): a replay reads the log, adds nothing
    "replay_jobs",
    # the jobs' bookkeeping: runs and locks
    "job_runs", "job_locks",
    # write side beside the log: the lines settlements and seals name by SHA-256 (0015)
    "settlement_line_chunks", "settlement_line_sets",
    # positions: the shadow is built up to the live ones, so they are equal by construction
    # (checked apart, see `_positions_differ`)
    "projection_positions",
    # the projecting process's last failure
    "projection_failures",
    # the migrations' own bookkeeping (yoyo)
    "_yoyo_log", "_yoyo_migration", "_yoyo_version", "yoyo_lock",
})
# An interrupted `ledger replay` leaves its fresh tables behind; SQLite keeps its own tables.
NOT_READ_MODEL_PATTERN = re.compile(r"(__next$)|(^sqlite_)")

# The columns a table's rows are grouped by, one digest a group (default: the primary key's first
# column). Groups of a worker, a site, a month keep the streams short and a differing group small
# enough to read row by row; a row whose group column was changed shows in two groups and is
# paired again by its key.
GROUP_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "work_records": ("technician_id", "site_id"),
    "work_day_months": ("technician_id", "month"),
    "roster_history": ("site_id", "technician_id"),
    "day_close_exceptions": ("site_id", "work_date"),
    "tap_facts": ("technician_id",),  # a tap a group would stream every tap twice
    "site_exceptions": ("site_id",),
    "exit_resolutions": ("site_id",),
    "requests": ("technician_id",),
    "working_time_days": ("technician_id",),
    "working_time_months": ("technician_id",),
    "closure_exclusions": ("site_id",),
}
DEFAULT_LIMIT = 20
SHADOW_PREFIX = "read_model_check_"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key's columns, in order
    text_columns: frozenset[str]

    @property
    def group(self) -> tuple[str, ...]:
        named = GROUP_COLUMNS.get(self.name, ())
        return named if named and set(named) <= set(self.columns) else self.key[:1]


@dataclass(frozen=True)
class Difference:
    """One difference: a column of a row (`column` set), or a whole row on one side only."""

    table: str
    key: tuple[tuple[str, Any], ...]  # the row's primary key (or a group's key), column → value
    column: str | None
    live: Any
    rebuilt: Any

    def __str__(self) -> str:
        key = ", ".join(f"{name}={_show(value)}" for name, value in self.key)
        where = f"{self.table} ({key})"
        if self.column is not None:
            return (f"{where} {self.column}: live {_show(self.live)} "
                    f"vs rebuilt {_show(self.rebuilt)}")
        if self.live is None:
            return f"{where}: missing from the live table (the log has it)"
        if self.rebuilt is None:
            return f"{where}: in the live table only (not in the log)"
        return f"{where}: digests differ (live {self.live} vs rebuilt {self.rebuilt})"


@dataclass(frozen=True)
class ReadModelCheck:
    position: int  # the ledger projection's position compared at
    settlement_position: int  # the settlement projection's
    tables: tuple[str, ...]
    rows: int  # live rows compared
    rebuilt_events: int
    differing_groups: int
    differences: tuple[Difference, ...]  # the first ones, at most the check's limit

    @property
    def equal(self) -> bool:
        return self.differing_groups == 0 and not self.differences

    def summary(self) -> str:
        if self.equal:
            return (f"read models equal the log at position {self.position} "
                    f"({len(self.tables)} tables, {self.rows} rows)")
        return (f"read models differ from the log at position {self.position}: "
                f"{self.differing_groups} differing group(s) in {len(self.tables)} tables; "
                f"first: {self.differences[0]}")

    def counts(self) -> dict[str, Any]:
        """What a job run records. No key values: job runs are shown where no key is needed."""
        counts: dict[str, Any] = {
            "position": self.position, "settlement_position": self.settlement_position,
            "tables": len(self.tables), "rows": self.rows,
            "rebuilt_events": self.rebuilt_events, "differing_groups": self.differing_groups}
        if self.differences:
            first = self.differences[0]
            counts["first_difference"] = {"table": first.table, "column": first.column,
                                          "key": [name for name, _ in first.key]}
        return counts


Progress = Callable[[int], None]


def check_read_models(
    ledger: Ledger,
    settings: Settings,
    limit: int = DEFAULT_LIMIT,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> ReadModelCheck:
    """Rebuild the read models from the log into a shadow, up to the live projections'
    positions, and compare every read-model table with the live one."""
    live = _Side.open(settings)  # the snapshot starts here, before the rebuild
    try:
        tables = live.read_model_tables()
        position = live.position("projection_positions", LedgerProjection.name)
        settlement_position = live.position("projection_positions", DECISIONS)
        with _shadow(settings, live, tables) as (store, shadow_settings, schema):
            max_shift = timedelta(hours=ledger.settings.max_shift_hours)
            runner = _StoppingRunner(ledger, store, LedgerProjection(max_shift),
                                     batch_size=batch_size, stop=position)
            runner.progress = progress
            events = runner.catch_up(until=position)
            project_decisions(ledger, store, until=settlement_position)
            store.close()
            shadow = _Side.open(shadow_settings, schema)
            try:
                return _compare(live, shadow, tables, position, settlement_position, events,
                                limit)
            finally:
                shadow.close()
    finally:
        live.close()


def drop_stale_shadows(settings: Settings) -> int:
    """Drop shadows left by a check whose process died (PostgreSQL schemas; SQLite's are
    temporary directories). Call only under the check's job lock: it drops a running one too."""
    if not settings.is_postgres:
        return 0
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        names = [name for (name,) in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
            [SHADOW_PREFIX.replace("_", r"\_") + "%"])]
        for name in names:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
    return len(names)


class _StoppingRunner(LogFollower):
    """The projection runner reading no further than a position: a batch must not run past the
    position the live tables are compared at, and log positions may have gaps."""

    def __init__(self, ledger: Ledger, store: ReadStore, projection: LedgerProjection,
                 batch_size: int, stop: int) -> None:
        super().__init__(ledger, store, projection, batch_size=batch_size)
        self.stop = stop


@contextmanager
def _shadow(
    settings: Settings, live: _Side, tables: list[Table]
) -> Iterator[tuple[ReadStore, Settings, str | None]]:
    """An empty copy of the read-model tables, of the live database's kind, dropped after."""
    names = [t.name for t in tables] + ["projection_positions"]
    if not settings.is_postgres:
        folder = Path(settings.sqlite_path).parent
        with tempfile.TemporaryDirectory(prefix="read-model-check-", dir=folder) as directory:
            shadow_settings = Settings(database_url=f"sqlite:///{directory}/shadow.db")
            with sqlite3.connect(shadow_settings.sqlite_path) as shadow_db:
                for statement in live.definitions(names):
                    shadow_db.execute(statement)
            store = ReadStore(shadow_settings)
            try:
                yield store, shadow_settings, None
            finally:
                store.close()
        return
    schema = f"{SHADOW_PREFIX}{uuid.uuid4().hex[:12]}"
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            for name in names:
                admin.execute(sql.SQL("CREATE TABLE {}.{} (LIKE {}.{} INCLUDING ALL)").format(
                    sql.Identifier(schema), sql.Identifier(name), sql.Identifier(live.schema),
                    sql.Identifier(name)))
            store = _SchemaStore(settings, schema)
            try:
                yield store, settings, schema
            finally:
                store.close()
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


class _SchemaStore(ReadStore):
    """A read store whose unqualified table names are those of another schema."""

    def __init__(self, settings: Settings, schema: str) -> None:
        super().__init__(settings)
        self.schema = schema

    def _connect(self) -> Any:
        fresh = self._connection is None
        conn = super()._connect()
        if fresh:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            conn.commit()
        return conn


class _Side:
    """One side of the comparison, on its own connection: the live tables in one snapshot, or
    the shadow's."""

    def __init__(self, conn: Any, sqlite: bool, schema: str) -> None:
        self.conn = conn
        self.sqlite = sqlite
        self.schema = schema
        self._cursors = 0

    @classmethod
    def open(cls, settings: Settings, schema: str | None = None) -> _Side:
        if not settings.is_postgres:
            conn = sqlite3.connect(settings.sqlite_path, isolation_level=None,
                                   check_same_thread=False)
            conn.create_function("row_digest", 1, _row_digest, deterministic=True)
            conn.create_aggregate("group_digest", 1, _GroupDigest)  # type: ignore[arg-type]
            conn.execute("BEGIN")  # the snapshot is taken at the first read (WAL)
            return cls(conn, True, "main")
        pg = psycopg.connect(settings.database_url)
        pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        pg.read_only = True
        # The live snapshot waits, idle in its transaction, while the shadow is rebuilt: a
        # server's idle-in-transaction timeout must not end it (a utility statement: the
        # snapshot is still taken by the first query).
        pg.execute("SET idle_in_transaction_session_timeout = 0")
        if schema is None:
            row = pg.execute("SELECT current_schema()").fetchone()
            assert row is not None
            schema = str(row[0])
        return cls(pg, False, schema)

    def close(self) -> None:
        self.conn.close()

    def _rows(self, query: str, params: list[Any] | tuple[Any, ...] = ()) -> list[Any]:
        return list(self.conn.execute(query, params).fetchall())

    def read_model_tables(self) -> list[Table]:
        """Every table of the live database but those named as not read models."""
        if self.sqlite:
            names = [n for (n,) in self._rows(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        else:
            names = [n for (n,) in self._rows(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "AND table_type = 'BASE TABLE' ORDER BY table_name", [self.schema])]
        return [self.table(name) for name in names
                if name not in NOT_READ_MODELS and not NOT_READ_MODEL_PATTERN.search(name)]

    def table(self, name: str) -> Table:
        if self.sqlite:
            info = self._rows(f'PRAGMA table_info("{name}")')
            columns = tuple(row[1] for row in info)
            key = tuple(row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5]))
            text = frozenset(row[1] for row in info if str(row[2]).upper() == "TEXT")
        else:
            info = self._rows(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                [self.schema, name])
            columns = tuple(row[0] for row in info)
            text = frozenset(row[0] for row in info if row[1] in ("text", "character varying"))
            key = tuple(row[0] for row in self._rows(
                "SELECT a.attname FROM pg_index i "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = %s::regclass AND i.indisprimary "
                "ORDER BY array_position(i.indkey::int2[], a.attnum)",
                [f'"{self.schema}"."{name}"']))
        if not key:
            raise ValueError(f"read-model table {name} has no primary key: rows cannot be "
                             "matched with the rebuilt ones")
        return Table(name, columns, key, text)

    def definitions(self, names: list[str]) -> list[str]:
        """SQLite: the statements that create these tables and their indexes as they are here
        (SQLite has no CREATE TABLE … LIKE)."""
        marks = ", ".join("?" for _ in names)
        return [statement for (statement,) in self._rows(
            f"SELECT sql FROM sqlite_master WHERE tbl_name IN ({marks}) AND sql IS NOT NULL "
            "ORDER BY type DESC", names)]

    def position(self, table: str, name: str) -> int:
        mark = "?" if self.sqlite else "%s"
        rows = self._rows(f"SELECT position FROM {self._name(table)} WHERE name = {mark}", [name])
        return int(rows[0][0]) if rows else 0

    def _name(self, table: str) -> str:
        return f'"{table}"' if self.sqlite else f'"{self.schema}"."{table}"'

    def _ordered(self, table: Table, columns: tuple[str, ...]) -> str:
        # Text in code-point order on both sides (PostgreSQL's "C" collation, SQLite's BINARY),
        # the order `_order` merges in.
        # NULL first (a tap of an unknown card has no worker), as SQLite sorts it.
        if self.sqlite:
            return ", ".join(f'"{c}"' for c in columns)
        collate = ' COLLATE "C"'
        return ", ".join(f'"{c}"{collate if c in table.text_columns else ""} NULLS FIRST'
                         for c in columns)

    def digests(self, table: Table) -> Iterator[tuple[tuple[Any, ...], int, str]]:
        """(group key, rows, digest) per group, in group-key order, streamed."""
        group = ", ".join(f'"{c}"' for c in table.group)
        if self.sqlite:
            row_text = " || char(31) || ".join(f'quote("{c}")' for c in table.columns)
            if table.group == table.key:
                query = (f"SELECT {group}, 1, row_digest({row_text}) FROM {self._name(table.name)}"
                         f" ORDER BY {self._ordered(table, table.key)}")
            else:
                query = (f"SELECT {group}, count(*), group_digest({row_text}) "
                         f"FROM {self._name(table.name)} GROUP BY {group} "
                         f"ORDER BY {self._ordered(table, table.group)}")
            cursor = self.conn.execute(query)
        else:
            columns = ", ".join(f'"{c}"' for c in table.columns)
            row_text = f"md5(ROW({columns})::text)"
            if table.group == table.key:
                query = (f"SELECT {group}, 1, {row_text} FROM {self._name(table.name)} "
                         f"ORDER BY {self._ordered(table, table.key)}")
            else:
                # The rows' hashes summed (two 64-bit halves), as on SQLite: in any order, so
                # no sort within a group (faster than an ordered string_agg).
                half = "sum(('x' || {}(h, 16))::bit(64)::bigint)::text"
                query = (f"SELECT {group}, count(*), {half.format('left')} || ':' || "
                         f"{half.format('right')} FROM (SELECT {group}, {row_text} AS h "
                         f"FROM {self._name(table.name)}) hashed "
                         f"GROUP BY {group} ORDER BY {self._ordered(table, table.group)}")
            self._cursors += 1
            cursor = self.conn.cursor(name=f"digests_{self._cursors}")
            cursor.itersize = 10_000
            cursor.execute(query)
        width = len(table.group)
        try:
            for row in cursor:
                yield tuple(row[:width]), int(row[width]), str(row[width + 1])
        finally:
            cursor.close()

    def group_rows(
        self, table: Table, group: tuple[Any, ...]
    ) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        """A group's rows by primary key (a group is small: a worker's, a site's)."""
        mark = "?" if self.sqlite else "%s"
        # `= value` or `IS NULL`, not IS NOT DISTINCT FROM, which no index answers
        where = " AND ".join(f'"{c}" IS NULL' if v is None else f'"{c}" = {mark}'
                             for c, v in zip(table.group, group, strict=True))
        columns = ", ".join(f'"{c}"' for c in table.columns)
        rows = self._rows(f"SELECT {columns} FROM {self._name(table.name)} WHERE {where}",
                          [v for v in group if v is not None])
        at = [table.columns.index(c) for c in table.key]
        return {tuple(row[i] for i in at): tuple(row) for row in rows}


def _row_digest(text: str | None) -> str:
    return hashlib.blake2b((text or "").encode(), digest_size=16).hexdigest()


class _GroupDigest:
    """A group's rows hashed in any order (SQLite does not promise the order an aggregate sees
    its rows in): the sum of the rows' 128-bit hashes. Rows are unique by key, so none cancel.
    An accidental change is what the check is for; the log itself is sealed (`ledger verify`)."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, text: str | None) -> None:
        self.total += int(_row_digest(text), 16)

    def finalize(self) -> str:
        return format(self.total % (1 << 128), "032x")


def _order(values: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    """A key that sorts as both databases sort: NULL, then numbers, text, bytes (SQLite's order
    across types, for a value of the wrong type put in by hand); text by code point."""
    return tuple((_rank(value), value) for value in values)


def _rank(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return 2
    if isinstance(value, bytes):
        return 3
    return 1


def _same(a: Any, b: Any) -> bool:
    # By type too: on SQLite the integer 1 and the text '1' are different values.
    return type(a) is type(b) and a == b


def _show(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def _compare(
    live: _Side, shadow: _Side, tables: list[Table], position: int, settlement_position: int,
    events: int, limit: int,
) -> ReadModelCheck:
    rows, differing = 0, 0
    differences: list[Difference] = list(_positions_differ(
        shadow, position, settlement_position))
    for table in tables:
        shadow_table = shadow.table(table.name)
        if shadow_table.columns != table.columns or shadow_table.key != table.key:
            raise ValueError(f"read-model table {table.name}: the rebuilt table's columns "
                             f"{shadow_table.columns} are not the live one's {table.columns}")
        groups: list[tuple[Any, ...]] = []
        table_rows, table_differing = _compare_digests(live, shadow, table, groups, limit)
        rows += table_rows
        differing += table_differing
        if groups and len(differences) < limit:
            differences.extend(_row_differences(live, shadow, table, groups))
    return ReadModelCheck(position, settlement_position, tuple(t.name for t in tables), rows,
                          events, differing, tuple(differences[:limit]))


def _positions_differ(
    shadow: _Side, position: int, settlement_position: int
) -> Iterator[Difference]:
    """The shadow stops at the live positions; it falls short only if the log lost events."""
    for table, name, live in (("projection_positions", LedgerProjection.name, position),
                              ("projection_positions", DECISIONS,
                               settlement_position)):
        rebuilt = shadow.position(table, name)
        if rebuilt != live and live > 0:
            yield Difference(table, (("name", name),), "position", live, rebuilt)


def _compare_digests(
    live: _Side, shadow: _Side, table: Table, groups: list[tuple[Any, ...]], limit: int
) -> tuple[int, int]:
    """Merge the two sides' digest streams; return (live rows, differing groups), keeping the
    first `limit` differing groups' keys in `groups`."""
    rows, differing = 0, 0

    def differs(group: tuple[Any, ...]) -> None:
        nonlocal differing
        differing += 1
        if len(groups) < limit:
            groups.append(group)

    live_groups, shadow_groups = live.digests(table), shadow.digests(table)
    a, b = next(live_groups, None), next(shadow_groups, None)
    while a is not None or b is not None:
        if a is not None and b is not None and a[0] == b[0]:  # the usual case, without _order
            if a[2] != b[2] or a[1] != b[1]:
                differs(a[0])
            rows += a[1]
            a, b = next(live_groups, None), next(shadow_groups, None)
        elif b is None or (a is not None and _order(a[0]) < _order(b[0])):
            assert a is not None
            differs(a[0])
            rows += a[1]
            a = next(live_groups, None)
        elif a is None or _order(b[0]) < _order(a[0]):
            differs(b[0])
            b = next(shadow_groups, None)
        else:  # equal in order but not by ==: a value of another type (SQLite)
            differs(a[0])
            rows += a[1]
            a, b = next(live_groups, None), next(shadow_groups, None)
    return rows, differing


def _row_differences(
    live: _Side, shadow: _Side, table: Table, groups: list[tuple[Any, ...]]
) -> list[Difference]:
    """The differing groups' rows, paired by primary key across the groups (a row whose group
    column was changed is in one group live and in another rebuilt)."""
    live_rows: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    shadow_rows: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for group in groups:
        live_rows.update(live.group_rows(table, group))
        shadow_rows.update(shadow.group_rows(table, group))
    found: list[Difference] = []
    for key in sorted(live_rows.keys() | shadow_rows.keys(), key=_order):
        named = tuple(zip(table.key, key, strict=True))
        mine, theirs = live_rows.get(key), shadow_rows.get(key)
        if mine is None or theirs is None:
            found.append(Difference(table.name, named, None, mine, theirs))
            continue
        found.extend(Difference(table.name, named, column, x, y)
                     for column, x, y in zip(table.columns, mine, theirs, strict=True)
                     if not _same(x, y))
    if not found:  # the digests differ, yet no value does: never call that equal
        found.append(Difference(table.name, tuple(zip(table.group, groups[0], strict=True)),
                                None, "digest", "digest"))
    return found
