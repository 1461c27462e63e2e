"""Content-addressed lines beside the event log: what a settlement or a seal lists, kept out of
its event so the event stays small whatever the month's size.

A set of lines is named by the SHA-256 of its canonical encoding (each line as compact JSON and a
newline, in order). It is stored as chunks of consecutive lines, each keyed by the SHA-256 of its
own bytes, and then one row listing the chunks: chunks are written one transaction each as the
lines are produced, so neither the writer nor the database holds a whole month at once, and a
set's row is written only after all its chunks, so a set that exists is whole. The same content
always lands on the same keys: a retry after a crash adds nothing and leaves no second copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import tuple_row

from ledger.domain.settlement import LineSet, encode_line
from ledger.errors import InvalidState

CHUNK_LINES = 2000


class LineStore:
    """The lines tables (migration 0015) on the ledger's own database connection."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.datastore: Any = getattr(recorder, "datastore", None)
        if self.datastore is None:
            raise TypeError("the line store needs the SQLite or PostgreSQL recorder")
        self.postgres = isinstance(recorder, PostgresApplicationRecorder)

    def _sql(self, statement: str) -> str:
        return statement if self.postgres else statement.replace("%s", "?")

    @contextmanager
    def _cursor(self, commit: bool) -> Iterator[Any]:
        if self.postgres and not commit:
            with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as c:
                yield c
        else:
            with self.datastore.transaction(commit=commit) as cursor:
                yield cursor

    def put(self, lines: Iterable[Sequence[Any]], chunk_lines: int = CHUNK_LINES) -> LineSet:
        """Store the lines (streamed: at most one chunk in memory) and return their set's name."""
        whole, count, chunks, buffer, in_buffer = hashlib.sha256(), 0, [], bytearray(), 0
        for line in lines:
            encoded = encode_line(line)
            whole.update(encoded)
            buffer += encoded
            count += 1
            in_buffer += 1
            if in_buffer == chunk_lines:
                chunks.append(self._put_chunk(bytes(buffer), in_buffer))
                buffer, in_buffer = bytearray(), 0
        if in_buffer:
            chunks.append(self._put_chunk(bytes(buffer), in_buffer))
        line_set = LineSet(whole.hexdigest(), count)
        with self._cursor(commit=True) as cursor:
            cursor.execute(self._sql(
                "INSERT INTO settlement_line_sets (digest, line_count, chunks) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING"), (line_set.sha256, count, orjson.dumps(chunks).decode()))
        return line_set

    def _put_chunk(self, data: bytes, count: int) -> str:
        digest = hashlib.sha256(data).hexdigest()
        with self._cursor(commit=True) as cursor:
            cursor.execute(self._sql(
                "INSERT INTO settlement_line_chunks (digest, line_count, lines) "
                "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"), (digest, count, data.decode()))
        return digest

    def has(self, line_set: LineSet) -> bool:
        with self._cursor(commit=False) as cursor:
            cursor.execute(self._sql(
                "SELECT line_count FROM settlement_line_sets WHERE digest = %s"),
                (line_set.sha256,))
            row = cursor.fetchone()
        return row is not None and int(row[0]) == line_set.count

    def lines(self, line_set: LineSet) -> Iterator[list[Any]]:
        """The set's lines in order, a chunk at a time; the whole is checked against its name
        once read, and a difference raises (the lines were altered or lost)."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(self._sql(
                "SELECT chunks FROM settlement_line_sets WHERE digest = %s"), (line_set.sha256,))
            row = cursor.fetchone()
        if row is None:
            raise InvalidState("lines", "lines.missing",
                               f"the lines {line_set.sha256} are not stored")
        whole, count = hashlib.sha256(), 0
        for chunk_digest in orjson.loads(row[0]):
            with self._cursor(commit=False) as cursor:
                cursor.execute(self._sql(
                    "SELECT lines FROM settlement_line_chunks WHERE digest = %s"), (chunk_digest,))
                found = cursor.fetchone()
            if found is None:
                raise InvalidState("lines", "lines.missing",
                                   f"a chunk of the lines {line_set.sha256} is not stored")
            data = str(found[0]).encode()
            whole.update(data)
            for encoded in data.split(b"\n")[:-1]:  # orjson escapes newlines in strings
                count += 1
                yield orjson.loads(encoded)
        if whole.hexdigest() != line_set.sha256 or count != line_set.count:
            raise InvalidState("lines", "lines.altered",
                               f"the stored lines {line_set.sha256} do not match their digest")
