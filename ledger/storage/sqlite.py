"""SQLite recorder with a duplicate-skipping batch insert for observations (taps)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteFactory


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    def insert_new_events(self, stored_events: Sequence[StoredEvent]) -> dict[UUID, int]:
        if not stored_events:
            return {}
        statement = (
            f"INSERT INTO {self.events_table_name} VALUES (?,?,?,?) "
            "ON CONFLICT DO NOTHING RETURNING rowid"
        )
        inserted: dict[UUID, int] = {}
        # A write transaction in SQLite holds the database's single writer lock, so commit order
        # equals rowid (notification ID) order without any further locking.
        with self.datastore.transaction(commit=True) as curs:
            for e in stored_events:
                originator_id = e.originator_id
                key = originator_id.hex if isinstance(originator_id, UUID) else originator_id
                curs.execute(statement, (key, e.originator_version, e.topic, e.state))
                row = curs.fetchone()
                if row is not None:
                    inserted[UUID(key) if isinstance(key, str) else key] = row[0]
        return inserted


class LedgerSQLiteFactory(SQLiteFactory):
    application_recorder_class = LedgerSQLiteRecorder
