"""The library's in-memory recorder (POPO) with the ledger's two recorder methods, so that the
`Ledger`'s use cases run without a database: in the unit tests, and wherever nothing needs to be
kept. Nothing here is durable; the read side needs SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory

from ledger.storage import FollowUp


class LedgerPOPORecorder(POPOApplicationRecorder):
    def insert_new_events(
        self, stored_events: Sequence[StoredEvent], follow_up: FollowUp | None = None
    ) -> dict[UUID, int]:
        """As the SQL recorders: an event whose (originator_id, version) is stored already is
        skipped; the follow-up's events go in under the same lock, so positions stay in order."""
        if not stored_events:
            return {}
        with self._database_lock:
            inserted = self._insert_new(stored_events)
            if follow_up is not None:
                more = follow_up(inserted, self._first_states)
                if more:
                    inserted |= self._insert_new(more)
        if inserted:
            self._notify_listeners()
        return inserted

    def _insert_new(self, stored_events: Sequence[StoredEvent]) -> dict[UUID, int]:
        inserted: dict[UUID, int] = {}
        for event in stored_events:
            if event.originator_version in self._stored_events_index[str(event.originator_id)]:
                continue
            self._update_table([event])
            inserted[UUID(str(event.originator_id))] = len(self._stored_events)  # 1, 2, …
        return inserted

    def _first_states(self, originator_ids: Sequence[UUID]) -> dict[UUID, bytes]:
        """The first (version 1) stored state of each of these aggregates that has one."""
        states: dict[UUID, bytes] = {}
        for originator_id in originator_ids:
            index = self._stored_events_index[str(originator_id)].get(1)
            if index is not None:
                states[originator_id] = self._stored_events[index].state
        return states

    def select_events_of(
        self, originator_ids: Sequence[UUID], after: int
    ) -> list[Notification]:
        wanted = {str(originator_id) for originator_id in originator_ids}
        with self._database_lock:
            return [
                Notification(id=position, originator_id=event.originator_id,
                             originator_version=event.originator_version, topic=event.topic,
                             state=event.state)
                for position, event in enumerate(self._stored_events[after:], start=after + 1)
                if str(event.originator_id) in wanted
            ]


class LedgerPOPOFactory(POPOFactory):
    def application_recorder(self) -> LedgerPOPORecorder:
        return LedgerPOPORecorder()
