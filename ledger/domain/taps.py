"""打刻 — card taps at a site gate. Observations: recorded as they came, without reading any state.

The aggregate ID is derived from the tap ID the reader chose before it stored the tap locally, so a
retried upload collides with the first one instead of being stored twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from eventsourcing.utils import get_topic, register_topic

from ledger.actors import Actor
from ledger.clock import require_aware
from ledger.directions import Direction as Direction  # defined there for the gate agent
from ledger.domain.base import LedgerAggregate
from ledger.errors import InvalidValue
from ledger.ids import CardId, ReaderId, TapId, TechnicianId, aggregate_id


def tap_aggregate_id(tap_id: str) -> UUID:
    return aggregate_id("tap", tap_id)


def conflict_aggregate_id(tap_id: str, content_hash: str) -> UUID:
    """One ID per version of a tap's content: a second upload of the same conflicting version
    collides, so it is stored once and answered ``duplicate``."""
    return aggregate_id("tap-conflict", f"{tap_id}:{content_hash}")


def content_hash(
    reader_id: str,
    card_id: str | None,
    technician_id: str | None,
    direction: str,
    reader_time: datetime,
) -> str:
    """SHA-256 (hex) of what a tap says happened: reader, card or technician, direction and the
    reader's time (in UTC, so one moment written with two offsets is one content). The tap ID
    and the receive time are not content: they say which tap and when it arrived."""
    canonical = json.dumps(
        [reader_id, card_id, technician_id, direction,
         reader_time.astimezone(UTC).isoformat(timespec="microseconds")],
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class TapObservation:
    """What a reader sends for one tap. Constructing it validates every field."""

    tap_id: TapId
    reader_id: ReaderId
    direction: Direction
    reader_time: datetime
    card_id: CardId | None = None
    technician_id: TechnicianId | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tap_id", TapId(self.tap_id))
        object.__setattr__(self, "reader_id", ReaderId(self.reader_id))
        if not self.tap_id.startswith(f"{self.reader_id}:"):
            raise InvalidValue("tap_id", "tap_id.reader", "must start with '<reader_id>:'")
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError:
            raise InvalidValue(
                "direction", "direction.enum", f"{self.direction!r} is not in, out or unknown"
            ) from None
        require_aware(self.reader_time, "reader_time")
        if self.card_id is None and self.technician_id is None:
            raise InvalidValue("card_id", "tap.identity", "a tap needs a card_id or technician_id")
        if self.card_id is not None:
            object.__setattr__(self, "card_id", CardId(self.card_id))
        if self.technician_id is not None:
            object.__setattr__(self, "technician_id", TechnicianId(self.technician_id))

    @property
    def content_hash(self) -> str:
        return content_hash(self.reader_id, self.card_id, self.technician_id,
                            self.direction.value, self.reader_time)


class Tap(LedgerAggregate):
    """One card presented at one reader. Never changed after it is recorded."""

    class ConflictingObservation(LedgerAggregate.Event):
        """A tap ID sent again with other content (another card, time or direction) than the
        version stored first. Nothing a reader sends is dropped, so it is kept, under its own
        aggregate ID (`conflict_aggregate_id`), for the site's staff to resolve; it never makes
        a work record. An observation like ``Recorded``: built as an event, never loaded as an
        aggregate (`Ledger.record_taps`)."""

        tap_id: str
        reader_id: str
        card_id: str | None
        technician_id: str | None
        direction: Direction
        reader_time: datetime
        received_at: datetime
        actor: Actor
        content_hash: str  # of this version
        stored_content_hash: str  # of the version stored first under the tap ID

    @staticmethod
    def create_id(tap_id: str, **_: Any) -> UUID:
        return tap_aggregate_id(tap_id)

    @event("Recorded")
    def __init__(
        self,
        tap_id: str,
        reader_id: str,
        card_id: str | None,
        technician_id: str | None,
        direction: Direction,
        reader_time: datetime,
        received_at: datetime,
        actor: Actor,
    ) -> None:
        self.tap_id = tap_id
        self.reader_id = reader_id
        self.card_id = card_id
        self.technician_id = technician_id
        self.direction = direction
        self.reader_time = reader_time
        self.received_at = received_at
        self.actor = actor

    @classmethod
    def observed(cls, observation: TapObservation, received_at: datetime, actor: Actor) -> Tap:
        return cls(**_recorded_state(observation, received_at, actor))

    @classmethod
    def recorded_event(
        cls, observation: TapObservation, received_at: datetime, actor: Actor
    ) -> LedgerAggregate.Event:
        """The same ``Recorded`` event ``observed`` creates, without building the aggregate.

        A tap is never loaded to decide anything, so the ingest path, which stores tens of
        thousands a second, skips the aggregate object and keeps only its event.
        """
        state = _recorded_state(observation, received_at, actor)
        return cls.Recorded(  # type: ignore[attr-defined,no-any-return]
            originator_topic=_TAP_TOPIC,
            originator_id=tap_aggregate_id(state["tap_id"]),
            originator_version=1,
            timestamp=cls.Event.create_timestamp(),
            **state,
        )


def conflicting_event(
    observation: TapObservation, received_at: datetime, actor: Actor, stored_content_hash: str
) -> LedgerAggregate.Event:
    """The ``Tap.ConflictingObservation`` of an observation whose tap ID holds other content."""
    state = _recorded_state(observation, received_at, actor)
    digest = observation.content_hash
    return Tap.ConflictingObservation(  # type: ignore[call-arg]
        originator_id=conflict_aggregate_id(state["tap_id"], digest),
        originator_version=1,
        timestamp=Tap.Event.create_timestamp(),
        content_hash=digest,
        stored_content_hash=stored_content_hash,
        **state,
    )


def _recorded_state(
    observation: TapObservation, received_at: datetime, actor: Actor
) -> dict[str, Any]:
    return {
        "tap_id": str(observation.tap_id),
        "reader_id": str(observation.reader_id),
        "card_id": None if observation.card_id is None else str(observation.card_id),
        "technician_id": (
            None if observation.technician_id is None else str(observation.technician_id)
        ),
        "direction": observation.direction,
        "reader_time": observation.reader_time,
        "received_at": received_at,
        "actor": actor,
    }


_TAP_TOPIC = get_topic(Tap)

# A tap's topic is stored in its row, and taps are nearly the whole log: those stored in the
# compact layout (`ledger.tap_codec`) name their class by this short topic (one character: a
# row's length is rounded up to 8 bytes, and two bytes more put many taps a step up). Taps
# stored before keep the class's full topic; both resolve to `Tap.Recorded`.
COMPACT_TOPIC = "t"
register_topic(COMPACT_TOPIC, Tap.Recorded)  # type: ignore[attr-defined]
