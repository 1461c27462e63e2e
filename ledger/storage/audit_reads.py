"""The log of unscoped reads (`audit_reads`): every read by an auditor or an admin is written here
before it is answered (DESIGN §2: an auditor reads everything, and every read is itself logged).

A read that cannot be logged is not answered: the insert's error becomes the request's 503.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from ledger import clock
from ledger.actors import Actor
from ledger.settings import Settings
from ledger.storage.sql import Database, as_moment

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
        self._database = Database(settings, max_connections=4)

    def close(self) -> None:
        self._database.close()

    def record(self, actor: Actor, method: str, path: str, query: str) -> AuditRead:
        read = AuditRead(uuid.uuid4().hex, clock.now(), str(actor), method, path,
                         query[:MAX_QUERY_CHARS])
        self._database.execute(
            "INSERT INTO audit_reads (read_id, read_at, actor, method, path, query) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (read.read_id, read.read_at, read.actor, read.method, read.path, read.query))
        return read

    def recent(self, limit: int = 100) -> list[AuditRead]:
        """The latest reads, newest first (for tests and for operators)."""
        rows = self._database.execute(
            "SELECT read_id, read_at, actor, method, path, query "
            "FROM audit_reads ORDER BY read_at DESC, read_id LIMIT %s", (limit,))
        return [AuditRead(r[0], as_moment(r[1]), r[2], r[3], r[4], r[5]) for r in rows]
