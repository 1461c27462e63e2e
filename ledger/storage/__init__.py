"""Storage adapters: the library's recorders, with a batch insert that skips duplicates."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

# The first (version 1) stored state of each of these aggregates, read in the insert's
# transaction: what a duplicate collided with.
StoredStates = Callable[[Sequence[UUID]], dict[UUID, bytes]]
# Given what the insert stored (aggregate ID → notification ID) and a reader of stored states,
# the further events to insert in the same transaction (skipping duplicates too).
FollowUp = Callable[[Mapping[UUID, int], StoredStates], Sequence[StoredEvent]]


class SkipsDuplicates(Protocol):
    def insert_new_events(
        self, stored_events: Sequence[StoredEvent], follow_up: FollowUp | None = None
    ) -> dict[UUID, int]:
        """Insert in one transaction; return notification IDs of the events that were new.
        Events whose (originator_id, version) is already stored are skipped, not an error.
        `follow_up`'s events are inserted in the same transaction, after the first ones."""
        ...

    def select_events_of(
        self, originator_ids: Sequence[UUID], after: int
    ) -> list[Notification]:
        """The events of these aggregates stored after log position `after`, in log order."""
        ...
