"""``Tap.Recorded`` events in their stored form, built straight from the observations.

The library's way, an event object and then the mapper's walk over its attributes, took about a
third of the API's CPU for a batch of taps. A tap's event has one version and known fields (the
projection reads them the same way, `projections/decoding.py`), so its state is packed straight
into the compact layout (`ledger.tap_codec`), then compressed and encrypted as the mapper would.
`TapMapper` stores a ``Tap.Recorded`` made as an event object the same way, and
`tests/integration/test_tap_events.py` checks that both agree, plain and encrypted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent

from ledger import tap_codec
from ledger.actors import Actor
from ledger.domain.base import LedgerAggregate
from ledger.domain.taps import (
    Tap,
    TapObservation,
    conflicting_event,
    content_hash,
    tap_aggregate_id,
)

assert getattr(Tap.Recorded, "class_version", 1) == 1, "a later version stores class_version"  # type: ignore[attr-defined]


class TapMapper(Mapper[UUID]):
    """The library's mapper, but a ``Tap.Recorded`` is stored in the compact layout under its
    short topic (`ledger.tap_codec`); one the layout cannot hold is stored as before."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        if type(domain_event) is Tap.Recorded:  # type: ignore[attr-defined]
            plain = tap_codec.encode(vars(domain_event))
            if plain is not None:
                return StoredEvent(
                    originator_id=domain_event.originator_id,
                    originator_version=domain_event.originator_version,
                    topic=tap_codec.TOPIC,
                    state=sealed(self, plain),
                )
        return super().to_stored_event(domain_event)


def sealed(mapper: Mapper[UUID], plain: bytes) -> bytes:
    """A plain state as the recorder holds it: compressed, then encrypted, as the mapper does."""
    if mapper.compressor:
        plain = mapper.compressor.compress(plain)
    if mapper.cipher:
        plain = mapper.cipher.encrypt(plain)
    return plain


def unsealed(mapper: Mapper[Any], state: bytes) -> bytes:
    """A stored state as the transcoder wrote it: decrypted, then decompressed (the seals read
    every event's plain state through this too)."""
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    return state


class RecordedTaps:
    """Stored ``Tap.Recorded`` events of one batch: received at one moment, from one party."""

    def __init__(self, mapper: Mapper[UUID], received_at: datetime, actor: Actor) -> None:
        self._mapper = mapper
        self.received_at = received_at
        self.actor = actor
        self._packer = tap_codec.Packer(received_at, actor)

    def stored_event(self, observation: TapObservation) -> StoredEvent:
        """What ``mapper.to_stored_event(Tap.recorded_event(observation, …))`` returns."""
        tap_id = str(observation.tap_id)
        card_id, technician_id = observation.card_id, observation.technician_id
        timestamp = LedgerAggregate.Event.create_timestamp()
        plain = self._packer.pack(
            timestamp, tap_id, str(observation.reader_id),
            None if card_id is None else str(card_id),
            None if technician_id is None else str(technician_id),
            observation.direction, observation.reader_time,
        )
        if plain is None:  # a value the layout cannot hold exactly: as the library stores it
            event = Tap.recorded_event(observation, self.received_at, self.actor)
            return Mapper.to_stored_event(self._mapper, event)
        return StoredEvent(
            originator_id=tap_aggregate_id(tap_id),
            originator_version=1,
            topic=tap_codec.TOPIC,
            state=sealed(self._mapper, plain),
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
        """The content hash of a stored ``Tap.Recorded`` (its state as the recorder holds it),
        in the compact layout or in JSON as taps were stored before it."""
        plain = unsealed(self._mapper, state)
        if tap_codec.is_compact(plain):
            tap = tap_codec.decode(plain)
            return content_hash(tap["reader_id"], tap["card_id"], tap["technician_id"],
                                tap["direction"].value, tap["reader_time"])
        stored = orjson.loads(plain)
        return content_hash(
            stored["reader_id"], stored["card_id"], stored["technician_id"],
            stored["direction"]["_data_"], datetime.fromisoformat(stored["reader_time"]["_data_"]),
        )
