"""Storage adapters: the library's recorders, with a batch insert that skips duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent


class SkipsDuplicates(Protocol):
    def insert_new_events(self, stored_events: Sequence[StoredEvent]) -> dict[UUID, int]:
        """Insert in one transaction; return notification IDs of the events that were new.
        Events whose (originator_id, version) is already stored are skipped, not an error."""
        ...
