"""PostgreSQL recorder with a duplicate-skipping batch insert for observations (taps), and a
cheaper read of the log for the projection."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, ClassVar, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import InterfaceError, Notification, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.utils import retry
from psycopg.adapt import Dumper
from psycopg.postgres import types
from psycopg.pq import Format
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from ledger.storage import FollowUp


class PackedArray(bytes):
    """A one-dimensional array parameter already in PostgreSQL's binary array format. psycopg
    dumps a list element by element in Python, a sizeable share of the API's CPU for the tap
    insert's four arrays; packed here, each is one join (figures in BENCHMARKS.md)."""

    element: ClassVar[str]


class UuidArray(PackedArray):
    element = "uuid"


class BigintArray(PackedArray):
    element = "int8"


class TextArray(PackedArray):
    element = "text"


class ByteaArray(PackedArray):
    element = "bytea"


class PackedArrayDumper(Dumper):
    format = Format.BINARY

    def __init__(self, cls: type, context: Any = None) -> None:
        super().__init__(cls, context)
        self.oid = types[cast(type[PackedArray], cls).element].array_oid

    def dump(self, obj: Any) -> bytes:
        return bytes(obj)


for _array_type in (UuidArray, BigintArray, TextArray, ByteaArray):
    psycopg.adapters.register_dumper(_array_type, PackedArrayDumper)

_ARRAY_HEADER = struct.Struct("!iiIii").pack  # dimensions, has nulls, element type, length, base
_LENGTH = struct.Struct("!i").pack
_UUID_LENGTH = _LENGTH(16)
_BIGINT = struct.Struct("!iq").pack  # length 8, then the value


def _header(kind: type[PackedArray], length: int) -> bytes:
    return _ARRAY_HEADER(1, 0, types[kind.element].oid, length, 1)


def uuid_array(values: Sequence[UUID | str]) -> UuidArray:
    items = [_UUID_LENGTH + (v if isinstance(v, UUID) else UUID(v)).bytes for v in values]
    return UuidArray(_header(UuidArray, len(values)) + b"".join(items))


def bigint_array(values: Sequence[int]) -> BigintArray:
    items = [_BIGINT(8, value) for value in values]
    return BigintArray(_header(BigintArray, len(values)) + b"".join(items))


def text_array(values: Sequence[str]) -> TextArray:
    items = [_LENGTH(len(data)) + data for data in (value.encode() for value in values)]
    return TextArray(_header(TextArray, len(values)) + b"".join(items))


def bytea_array(values: Sequence[bytes]) -> ByteaArray:
    items = [_LENGTH(len(value)) + value for value in values]
    return ByteaArray(_header(ByteaArray, len(values)) + b"".join(items))


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Four flat arrays bind far faster than an array of the composite row type.
        self.insert_new_events_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[]) "
            "ON CONFLICT DO NOTHING RETURNING originator_id, notification_id"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        self.select_first_states_statement = SQL(
            "SELECT originator_id, state FROM {schema}.{table} "
            "JOIN unnest(%s::uuid[]) AS wanted(originator_id) USING (originator_id) "
            "WHERE originator_version = 1"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        self.select_events_of_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{table} JOIN unnest(%s::uuid[]) AS wanted(originator_id) "
            "USING (originator_id) WHERE notification_id > %s ORDER BY notification_id"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        self.select_after_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's select; the projection's case (after a position, every topic) reads
        binary tuples instead of dicts: a third of the client CPU for the whole log."""
        if start is None or inclusive_of_start or stop is not None or topics:
            selected: Sequence[Notification] = super().select_notifications(
                start, limit, stop, topics, inclusive_of_start=inclusive_of_start
            )
            return selected
        with self.datastore.get_connection() as conn, conn.cursor(
            binary=True, row_factory=tuple_row
        ) as curs:
            curs.execute(self.select_after_statement, (start, limit), prepare=True)
            return [
                Notification(
                    id=notification_id,
                    originator_id=originator_id,
                    originator_version=originator_version,
                    topic=topic,
                    state=bytes(state),
                )
                for notification_id, originator_id, originator_version, topic, state in (
                    curs.fetchall()
                )
            ]

    def insert_new_events(
        self, stored_events: Sequence[StoredEvent], follow_up: FollowUp | None = None
    ) -> dict[UUID, int]:
        if not stored_events:
            return {}
        with self.datastore.transaction(commit=True) as curs:
            # The same table lock as the library's insert: commit order must equal notification
            # order, or a projection following the log could pass an ID that commits later.
            self._lock_table(curs)
            self._notify_channel(curs)
            inserted = self._insert(curs, stored_events)
            if follow_up is not None:

                def first_states(ids: Sequence[UUID]) -> dict[UUID, bytes]:
                    if not ids:
                        return {}
                    curs.execute(self.select_first_states_statement, (uuid_array(ids),),
                                 binary=True)
                    return {row["originator_id"]: bytes(row["state"]) for row in curs.fetchall()}

                more = follow_up(inserted, first_states)
                if more:
                    inserted |= self._insert(curs, more)
            return inserted

    def _insert(self, curs: Any, stored_events: Sequence[StoredEvent]) -> dict[UUID, int]:
        curs.execute(
            self.insert_new_events_statement,
            (
                uuid_array([e.originator_id for e in stored_events]),
                bigint_array([e.originator_version for e in stored_events]),
                text_array([e.topic for e in stored_events]),
                bytea_array([e.state for e in stored_events]),
            ),
            binary=True,  # text-format bytea arrays are escaped byte by byte; binary is not
        )
        return {row["originator_id"]: row["notification_id"] for row in curs.fetchall()}

    def select_events_of(
        self, originator_ids: Sequence[UUID], after: int
    ) -> list[Notification]:
        if not originator_ids:
            return []
        with self.datastore.get_connection() as conn, conn.cursor(
            binary=True, row_factory=tuple_row
        ) as curs:
            curs.execute(self.select_events_of_statement, (uuid_array(originator_ids), after))
            return [
                Notification(id=notification_id, originator_id=originator_id,
                             originator_version=version, topic=topic, state=bytes(state))
                for notification_id, originator_id, version, topic, state in curs.fetchall()
            ]


class LedgerPostgresFactory(PostgresFactory):
    application_recorder_class = LedgerPostgresRecorder
