"""PostgreSQL recorder with a duplicate-skipping batch insert for observations (taps)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from psycopg.sql import SQL, Identifier


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Four flat arrays bind far faster than an array of the composite row type.
        self.insert_new_events_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[]) "
            "ON CONFLICT DO NOTHING RETURNING originator_id, notification_id"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))

    def insert_new_events(self, stored_events: Sequence[StoredEvent]) -> dict[UUID, int]:
        if not stored_events:
            return {}
        with self.datastore.transaction(commit=True) as curs:
            # The same table lock as the library's insert: commit order must equal notification
            # order, or a projection following the log could pass an ID that commits later.
            self._lock_table(curs)
            self._notify_channel(curs)
            curs.execute(
                self.insert_new_events_statement,
                (
                    [e.originator_id for e in stored_events],
                    [e.originator_version for e in stored_events],
                    [e.topic for e in stored_events],
                    [e.state for e in stored_events],
                ),
                binary=True,  # text-format bytea arrays are escaped byte by byte; binary is not
            )
            return {row["originator_id"]: row["notification_id"] for row in curs.fetchall()}


class LedgerPostgresFactory(PostgresFactory):
    application_recorder_class = LedgerPostgresRecorder
