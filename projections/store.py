"""The read-model database: SQLite or PostgreSQL behind one small SQL dialect.

Statements use ``%s`` placeholders and ``{table}`` names. The names let a rebuild write the same
statements into fresh ``<table>__next`` tables before it swaps them in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

import psycopg

from ledger.settings import Settings
from ledger.storage.sql import Statements
from ledger.storage.sql import as_date as as_date  # the read models' readers import them here
from ledger.storage.sql import as_datetime as as_datetime
from ledger.storage.sql import sqlite_value as sqlite_value

T = TypeVar("T")
CHUNK = 500  # values per IN (…) list: well under SQLite's and PostgreSQL's parameter limits


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


READ_MODEL_TABLES = (
    "projection_positions",
    "aggregate_keys",
    "businesses",
    "workers",
    "worker_employments",
    "worker_qualifications",
    "worker_certificates",
    "worker_employment_requests",
    "worker_certificate_proposals",
    "sites",
    "site_structure",
    "roster_history",
    "reader_registry",
    "card_registry",
    "tap_facts",
    "site_exceptions",
    "exit_resolutions",
    "requests",
    "work_records",
    "work_day_months",
    "quarantined_events",
    "site_entry_rules",
    "worker_insurance_history",
    "worker_qualification_expiries",
    "kentaikyo_account_entries",
    "kentaikyo_wage_payments",
    "kentaikyo_contributions",
    "working_time_days",
    "working_time_months",
    "overtime_agreements",
    "disaster_work_periods",
    "site_terms",
    "closure_exclusions",
)


@lru_cache(maxsize=512)
def _render(sql: str, suffix: str, sqlite: bool) -> str:
    names = {table: f"{table}{suffix}" for table in READ_MODEL_TABLES}
    rendered = sql.format_map(names)
    return rendered.replace("%s", "?") if sqlite else rendered


class Tx(Statements):
    """One transaction's cursor, speaking the shared dialect, with the read models' ``{table}``
    names."""

    def __init__(self, cursor: Any, suffix: str, sqlite: bool) -> None:
        super().__init__(cursor, sqlite)
        self.suffix = suffix

    def sql(self, statement: str) -> str:
        return _render(statement, self.suffix, self.sqlite)

    def append_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        pg_types: Sequence[str] | None = None,
    ) -> None:
        """Bulk insert of new rows (COPY on PostgreSQL: one stream instead of a row a trip).

        Given `pg_types`, one per column, PostgreSQL gets a binary COPY, which costs a third of
        the client's CPU of a text one; every value must then be of its column's type."""
        if not rows:
            return
        name = f"{table}{self.suffix}"
        if self.sqlite:
            marks = ", ".join(["?"] * len(columns))
            self.cursor.executemany(
                f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})",
                [self.params(row) for row in rows],
            )
            return
        binary = " (FORMAT BINARY)" if pg_types else ""
        with self.cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN{binary}") as copy:
            if pg_types:
                copy.set_types(list(pg_types))
            for row in rows:
                copy.write_row(row)

    def delete_keys(
        self,
        table: str,
        columns: Sequence[str],
        pg_types: Sequence[str],
        keys: Sequence[Sequence[Any]],
    ) -> None:
        """Delete the rows with these composite keys, in one statement on PostgreSQL."""
        if not keys:
            return
        name = f"{table}{self.suffix}"
        if self.sqlite:
            where = " AND ".join(f"{c} = ?" for c in columns)
            self.cursor.executemany(
                f"DELETE FROM {name} WHERE {where}", [self.params(key) for key in keys]
            )
            return
        arrays = ", ".join(f"%s::{t}[]" for t in pg_types)
        self.cursor.execute(
            f"DELETE FROM {name} WHERE ({', '.join(columns)}) IN (SELECT * FROM unnest({arrays}))",
            [list(column) for column in zip(*keys, strict=True)],
        )

    def is_in(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column IN (…)`` as SQL and its parameters. One array parameter on PostgreSQL: a
        statement with thousands of placeholders would be parsed again for every length."""
        if self.sqlite:
            return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)
        return f"{column} = ANY(%s)", [list(values)]


class ReadStore:
    """The read models on one connection. A `read_only` store (the API's query connections)
    refuses writes; on PostgreSQL its reads run their statements in autocommit, each seeing what
    was committed when it started, as each statement of a READ COMMITTED transaction does: no
    BEGIN, SET TRANSACTION READ ONLY and COMMIT round trips around a read."""

    def __init__(self, settings: Settings, suffix: str = "", read_only: bool = False) -> None:
        self.settings = settings
        self.suffix = suffix
        self.sqlite = not settings.is_postgres
        self.read_only = read_only
        self._connection: Any = None  # sqlite3 or psycopg connection, opened on first use

    def _connect(self) -> Any:
        if self._connection is None:
            conn: Any
            if self.sqlite:
                conn = sqlite3.connect(
                    self.settings.sqlite_path,
                    isolation_level=None,
                    check_same_thread=False,
                    timeout=30,
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                if self.read_only:
                    conn.execute("PRAGMA query_only=ON")
            elif self.read_only:
                conn = psycopg.connect(self.settings.database_url, autocommit=True,
                                       options="-c default_transaction_read_only=on")
            else:
                conn = psycopg.connect(self.settings.database_url)
            self._connection = conn
        return self._connection

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        conn = self._connect()
        if self.sqlite:
            cursor = conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")  # one writer at a time; readers go on (WAL)
            try:
                yield Tx(cursor, self.suffix, True)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        else:
            with conn.transaction(), conn.cursor() as cursor:
                yield Tx(cursor, self.suffix, False)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction for queries (a snapshot on SQLite; see the class for a
        `read_only` store on PostgreSQL)."""
        conn = self._connect()
        if self.sqlite:
            cursor = conn.cursor()
            cursor.execute("BEGIN")
            try:
                yield Tx(cursor, self.suffix, True)
            finally:
                conn.rollback()
        elif self.read_only:
            with conn.cursor() as cursor:
                yield Tx(cursor, self.suffix, False)
        else:
            with conn.transaction(), conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
                yield Tx(cursor, self.suffix, False)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
