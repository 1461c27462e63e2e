"""The log of unscoped reads (`audit_reads`): every read by an auditor or an admin is written here
before it is answered (DESIGN §2: an auditor reads everything, and every read is itself logged).

A read that cannot be logged is not answered: the insert's error becomes the request's 503.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg_pool import ConnectionPool

from ledger import clock
from ledger.actors import Actor, Role
from ledger.settings import Settings

LOGGED_ROLES = (Role.AUDITOR, Role.ADMIN)  # the roles that read without a scope
MAX_QUERY_CHARS = 2000


@dataclass(frozen=True)
class AuditRead:
    read_id: str
    read_at: datetime
    actor: str  # role:id
    method: str
    path: str
    query: str


class AuditReadLog:
    """Appends to `audit_reads` on the ledger's database (SQLite or PostgreSQL)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ConnectionPool[Any] | None = None
        if settings.is_postgres:
            self._pool = ConnectionPool(settings.database_url, min_size=1, max_size=4, open=True,
                                        kwargs={"autocommit": True})

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def record(self, actor: Actor, method: str, path: str, query: str) -> AuditRead:
        read = AuditRead(uuid.uuid4().hex, clock.now(), str(actor), method, path,
                         query[:MAX_QUERY_CHARS])
        self._execute(
            "INSERT INTO audit_reads (read_id, read_at, actor, method, path, query) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (read.read_id, self._timestamp(read.read_at), read.actor, read.method, read.path,
             read.query))
        return read

    def recent(self, limit: int = 100) -> list[AuditRead]:
        """The latest reads, newest first (for tests and for operators)."""
        rows = self._execute("SELECT read_id, read_at, actor, method, path, query "
                             "FROM audit_reads ORDER BY read_at DESC, read_id LIMIT %s", (limit,))
        return [AuditRead(r[0], _moment(r[1]), r[2], r[3], r[4], r[5]) for r in rows]

    def _execute(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self._pool is not None:
            with self._pool.connection() as conn, conn.cursor() as cursor:
                cursor.execute(statement, params)
                return list(cursor.fetchall()) if cursor.description else []
        conn = sqlite3.connect(self.settings.sqlite_path, timeout=10)
        try:
            with conn:  # commits on success
                cursor = conn.execute(statement.replace("%s", "?"), params)
                return list(cursor.fetchall())
        finally:
            conn.close()

    def _timestamp(self, moment: datetime) -> Any:
        # SQLite keeps text in UTC, so that the text sorts in time order
        return moment if self._pool is not None else moment.astimezone(UTC).isoformat()


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
