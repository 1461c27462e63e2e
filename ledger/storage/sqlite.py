"""SQLite recorder with a duplicate-skipping batch insert for observations (taps)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteFactory

from ledger.storage import FollowUp

# SQLite's default limit on a statement's parameters is far above this; chunks keep it so.
_IDS_PER_STATEMENT = 500


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    def insert_new_events(
        self, stored_events: Sequence[StoredEvent], follow_up: FollowUp | None = None
    ) -> dict[UUID, int]:
        if not stored_events:
            return {}
        # A write transaction in SQLite holds the database's single writer lock, so commit order
        # equals rowid (notification ID) order without any further locking.
        with self.datastore.transaction(commit=True) as curs:
            inserted = self._insert(curs, stored_events)
            if follow_up is not None:

                def first_states(ids: Sequence[UUID]) -> dict[UUID, bytes]:
                    states: dict[UUID, bytes] = {}
                    for start in range(0, len(ids), _IDS_PER_STATEMENT):
                        part = [i.hex for i in ids[start:start + _IDS_PER_STATEMENT]]
                        curs.execute(
                            f"SELECT originator_id, state FROM {self.events_table_name} "
                            f"WHERE originator_version = 1 AND originator_id IN "
                            f"({','.join('?' * len(part))})", part)
                        states |= {UUID(row[0]): bytes(row[1]) for row in curs.fetchall()}
                    return states

                more = follow_up(inserted, first_states)
                if more:
                    inserted |= self._insert(curs, more)
        return inserted

    def _insert(self, curs: Any, stored_events: Sequence[StoredEvent]) -> dict[UUID, int]:
        statement = (
            f"INSERT INTO {self.events_table_name} VALUES (?,?,?,?) "
            "ON CONFLICT DO NOTHING RETURNING rowid"
        )
        inserted: dict[UUID, int] = {}
        for e in stored_events:
            originator_id = e.originator_id
            key = originator_id.hex if isinstance(originator_id, UUID) else originator_id
            curs.execute(statement, (key, e.originator_version, e.topic, e.state))
            row = curs.fetchone()
            if row is not None:
                inserted[UUID(key) if isinstance(key, str) else key] = row[0]
        return inserted

    def select_events_of(
        self, originator_ids: Sequence[UUID], after: int
    ) -> list[Notification]:
        rows: list[Any] = []
        with self.datastore.transaction(commit=False) as curs:
            for start in range(0, len(originator_ids), _IDS_PER_STATEMENT):
                part = [i.hex for i in originator_ids[start:start + _IDS_PER_STATEMENT]]
                curs.execute(
                    f"SELECT rowid, originator_id, originator_version, topic, state "
                    f"FROM {self.events_table_name} WHERE rowid > ? AND originator_id IN "
                    f"({','.join('?' * len(part))})", [after, *part])
                rows += curs.fetchall()
        return [
            Notification(id=row[0], originator_id=UUID(row[1]), originator_version=row[2],
                         topic=row[3], state=bytes(row[4]))
            for row in sorted(rows, key=lambda row: int(row[0]))
        ]


class LedgerSQLiteFactory(SQLiteFactory):
    application_recorder_class = LedgerSQLiteRecorder
