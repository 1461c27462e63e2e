"""``Tap.Recorded`` events in their stored form, built straight from the observations.

The library's way, an event object and then the mapper's walk over its attributes, took about a
third of the API's CPU for a batch of taps. A tap's event has one version and known fields (the
projection reads them the same way, `projections/decoding.py`), so its state is put together as
the transcoder would tag it, encoded once, then compressed and encrypted as the mapper would.
`tests/integration/test_tap_events.py` checks that the result is the mapper's, plain and encrypted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from ledger.actors import Actor
from ledger.domain.base import LedgerAggregate
from ledger.domain.taps import (
    Direction,
    Tap,
    TapObservation,
    conflicting_event,
    content_hash,
    tap_aggregate_id,
)
from ledger.transcoder import OrjsonTranscoder

TAP_TOPIC = get_topic(Tap)
RECORDED_TOPIC = get_topic(Tap.Recorded)  # type: ignore[attr-defined]
assert getattr(Tap.Recorded, "class_version", 1) == 1, "a later version stores class_version"  # type: ignore[attr-defined]


class RecordedTaps:
    """Stored ``Tap.Recorded`` events of one batch: received at one moment, from one party."""

    def __init__(self, mapper: Mapper[UUID], received_at: datetime, actor: Actor) -> None:
        transcoder = mapper.transcoder
        if not isinstance(transcoder, OrjsonTranscoder):
            raise TypeError(f"taps are encoded as OrjsonTranscoder tags, not {transcoder!r}")
        self._mapper = mapper
        self.received_at = received_at
        self.actor = actor
        self._datetime = transcoder.types[datetime].name
        self._direction = transcoder.types[Direction].name
        actor_type = transcoder.types[Actor]
        self._received_at = self._tag(self._datetime, received_at.isoformat())
        self._actor = self._tag(actor_type.name, actor_type.encode(actor))

    @staticmethod
    def _tag(name: str, data: Any) -> dict[str, Any]:
        return {"_type_": name, "_data_": data}

    def stored_event(self, observation: TapObservation) -> StoredEvent:
        """What ``mapper.to_stored_event(Tap.recorded_event(observation, …))`` returns."""
        tap_id = str(observation.tap_id)
        card_id, technician_id = observation.card_id, observation.technician_id
        state = orjson.dumps(
            {  # the event's attributes in its own order
                "timestamp": self._tag(
                    self._datetime, LedgerAggregate.Event.create_timestamp().isoformat()
                ),
                "originator_topic": TAP_TOPIC,
                "tap_id": tap_id,
                "reader_id": str(observation.reader_id),
                "card_id": None if card_id is None else str(card_id),
                "technician_id": None if technician_id is None else str(technician_id),
                "direction": self._tag(self._direction, observation.direction.value),
                "reader_time": self._tag(self._datetime, observation.reader_time.isoformat()),
                "received_at": self._received_at,
                "actor": self._actor,
            }
        )
        if self._mapper.compressor:
            state = self._mapper.compressor.compress(state)
        if self._mapper.cipher:
            state = self._mapper.cipher.encrypt(state)
        return StoredEvent(
            originator_id=tap_aggregate_id(tap_id),
            originator_version=1,
            topic=RECORDED_TOPIC,
            state=state,
        )

    def conflicting_stored_event(
        self, observation: TapObservation, stored_content_hash: str
    ) -> StoredEvent:
        """The stored ``Tap.ConflictingObservation`` of a resend with other content. Rare, so
        through the library's mapper."""
        return self._mapper.to_stored_event(
            conflicting_event(observation, self.received_at, self.actor, stored_content_hash)
        )

    def stored_content_hash(self, state: bytes) -> str:
        """The content hash of a stored ``Tap.Recorded`` (its state as the recorder holds it)."""
        if self._mapper.cipher:
            state = self._mapper.cipher.decrypt(state)
        if self._mapper.compressor:
            state = self._mapper.compressor.decompress(state)
        stored = orjson.loads(state)
        return content_hash(
            stored["reader_id"], stored["card_id"], stored["technician_id"],
            stored["direction"]["_data_"], datetime.fromisoformat(stored["reader_time"]["_data_"]),
        )
