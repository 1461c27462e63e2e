"""The event table as stored: raw rows in notification order, for sealing and verifying.

Seals hash the bytes the database holds, not what the library makes of them, so they are read
straight from the table (``stored_events`` with its rowid on SQLite, ``ledger_events`` with its
notification_id on PostgreSQL), page by page so memory stays flat on a long log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

from projections.store import ReadStore

PAGE = 10_000


@dataclass(frozen=True)
class RawEvent:
    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes


def _select(store: ReadStore) -> tuple[str, str]:
    if store.sqlite:
        return "rowid", "stored_events"
    return "notification_id", "ledger_events"


def iter_raw(
    store: ReadStore, after: int, until: int | None = None, page: int = PAGE
) -> Iterator[RawEvent]:
    """Rows with after < position (≤ until), in position order."""
    position_column, table = _select(store)
    bound = "" if until is None else f" AND {position_column} <= %s"
    sql = (f"SELECT {position_column}, originator_id, originator_version, topic, state "
           f"FROM {table} WHERE {position_column} > %s{bound} ORDER BY {position_column} "
           "LIMIT %s")
    while True:
        params = [after] if until is None else [after, until]
        with store.read() as tx:
            rows = tx.execute(sql, [*params, page])
        for position, originator_id, version, topic, state in rows:
            yield RawEvent(int(position), _uuid(originator_id), int(version), topic,
                           _bytes(state))
        if len(rows) < page:
            return
        after = int(rows[-1][0])


def positions_with_topic(store: ReadStore, topic: str) -> list[int]:
    """Positions of one topic's rows (seals: one a day, each up to a few MB, so they are read
    one at a time with `raw_at`)."""
    position_column, table = _select(store)
    with store.read() as tx:
        rows = tx.execute(f"SELECT {position_column} FROM {table} WHERE topic = %s "
                          f"ORDER BY {position_column}", [topic])
    return [int(row[0]) for row in rows]


def raw_at(store: ReadStore, position: int) -> RawEvent:
    (event,) = iter_raw(store, position - 1, position)
    return event


def slice_of(store: ReadStore, after: int, until: int, offset: int, limit: int) -> list[RawEvent]:
    """The rows after < position <= until, from the `offset`-th, at most `limit` of them (one
    run of a sealed day's leaves)."""
    position_column, table = _select(store)
    with store.read() as tx:
        rows = tx.execute(
            f"SELECT {position_column}, originator_id, originator_version, topic, state "
            f"FROM {table} WHERE {position_column} > %s AND {position_column} <= %s "
            f"ORDER BY {position_column} LIMIT %s OFFSET %s", [after, until, limit, offset])
    return [RawEvent(int(p), _uuid(o), int(v), t, _bytes(s)) for p, o, v, t, s in rows]


def count_between(store: ReadStore, after: int, before: int) -> int:
    """How many rows stand strictly between two positions."""
    position_column, table = _select(store)
    with store.read() as tx:
        rows = tx.execute(f"SELECT COUNT(*) FROM {table} WHERE {position_column} > %s "
                          f"AND {position_column} < %s", [after, before])
    return int(rows[0][0])


def count_after(store: ReadStore, after: int) -> int:
    position_column, table = _select(store)
    with store.read() as tx:
        rows = tx.execute(f"SELECT COUNT(*) FROM {table} WHERE {position_column} > %s", [after])
    return int(rows[0][0])


def _uuid(value: object) -> UUID:
    # PostgreSQL gives a UUID; SQLite holds text (hex, or hyphenated from other writers).
    return value if isinstance(value, UUID) else UUID(str(value))


def _bytes(value: object) -> bytes:
    # SQLite columns hold whatever was written: a row rewritten by hand may hold text.
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"a stored state of type {type(value).__name__}")
