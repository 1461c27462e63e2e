"""SQL on either of the ledger's databases, in one dialect: statements use ``%s`` placeholders
(SQLite's ``?`` is put in here), and a moment is stored on SQLite as UTC ISO text, so that the text
sorts in time order. The read models (`projections.store`), the API keys and the log of reads share
this one copy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from psycopg_pool import ConnectionPool

from ledger.settings import Settings

Rows = list[tuple[Any, ...]]


def sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def as_date(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    return date.fromisoformat(str(value))


def as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def as_moment(value: Any) -> datetime:
    """A moment from a NOT NULL column."""
    moment = as_datetime(value)
    assert moment is not None
    return moment


class Statements:
    """One transaction's cursor, speaking the shared dialect."""

    def __init__(self, cursor: Any, sqlite: bool) -> None:
        self.cursor = cursor
        self.sqlite = sqlite

    def sql(self, statement: str) -> str:
        return statement.replace("%s", "?") if self.sqlite else statement

    def params(self, params: Sequence[Any]) -> Sequence[Any]:
        return [sqlite_value(v) for v in params] if self.sqlite else params

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(self.sql(statement), self.params(params))
        return list(self.cursor.fetchall()) if self.cursor.description else []

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(self.sql(statement), [self.params(row) for row in rows])


class Database:
    """Short transactions on the ledger's database for tables beside the event log (API keys,
    the log of reads): a small pool of autocommit connections on PostgreSQL, a connection per
    transaction on SQLite (these writes are few, and SQLite has one writer anyway)."""

    def __init__(self, settings: Settings, max_connections: int) -> None:
        self.settings = settings
        self._pool: ConnectionPool[Any] | None = None
        if settings.is_postgres:
            self._pool = ConnectionPool(settings.database_url, min_size=1,
                                        max_size=max_connections, open=True,
                                        kwargs={"autocommit": True})

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    @contextmanager
    def transaction(self) -> Iterator[Statements]:
        """Everything in the block is written together or not at all."""
        if self._pool is not None:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
                yield Statements(cursor, sqlite=False)
            return
        conn = sqlite3.connect(self.settings.sqlite_path, timeout=10)
        try:
            with conn:  # commits on success
                yield Statements(conn.cursor(), sqlite=True)
        finally:
            conn.close()

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement, committed on its own (on PostgreSQL without a BEGIN and COMMIT round
        trip around it: the connection is in autocommit)."""
        if self._pool is not None:
            with self._pool.connection() as conn, conn.cursor() as cursor:
                return Statements(cursor, sqlite=False).execute(statement, params)
        with self.transaction() as statements:
            return statements.execute(statement, params)
