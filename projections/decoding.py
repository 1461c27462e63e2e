"""Stored events as the projection reads them: (log position, event class, state).

Most of the log is taps. ``Tap.Recorded`` has one version and no upcasts, so its stored state is
decoded straight into a dict (decrypted first when a cipher is set) instead of through the library's
event object: the compact layout (`ledger.tap_codec`) of taps stored since it exists, or, for taps
stored before, the JSON fields they are known to have; JSON that is not as expected goes through
the transcoder's general walk. Every other event goes through the library's mapper, with its
upcasts.
A reader's clock outside the ledger's range is read as the nearest bound
(`ledger.clock.projectable`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, Notification
from eventsourcing.utils import get_topic

from ledger import tap_codec
from ledger.actors import Actor, Role
from ledger.clock import projectable
from ledger.domain.taps import Direction, Tap

EventClass = type[DomainEventProtocol[Any]]

TAP_RECORDED: EventClass = Tap.Recorded  # type: ignore[attr-defined]
TAP_RECORDED_TOPICS = frozenset((get_topic(TAP_RECORDED), tap_codec.TOPIC))
assert getattr(TAP_RECORDED, "class_version", 1) == 1, "upcast taps through the mapper"


class LoggedEvent(NamedTuple):
    position: int
    # The domain's class, as the library's mapper resolves the stored topic (renamed topics
    # included): the projection dispatches on it, as the library's `Projection` does.
    event_class: EventClass
    state: dict[str, Any]  # the event's attributes, originator_id and timestamp included

    @property
    def name(self) -> str:
        """e.g. "Tap.Recorded", "ManualEntry.Approved": what the quarantine list shows."""
        return self.event_class.__qualname__

    @property
    def timestamp(self) -> datetime:
        recorded: datetime = self.state["timestamp"]
        return recorded


def decode(mapper: Mapper[Any], notifications: Sequence[Notification]) -> list[LoggedEvent]:
    decoded: list[LoggedEvent] = []
    for notification in notifications:
        if notification.topic in TAP_RECORDED_TOPICS:
            payload = notification.state
            if mapper.cipher is not None:
                payload = mapper.cipher.decrypt(payload)
            if mapper.compressor is not None:
                payload = mapper.compressor.decompress(payload)
            state = (tap_codec.decode(payload) if tap_codec.is_compact(payload)
                     else _tap_state(mapper, payload))
            state["reader_time"] = projectable(state["reader_time"])
            state["originator_id"] = notification.originator_id
            state["originator_version"] = notification.originator_version
            decoded.append(LoggedEvent(notification.id, TAP_RECORDED, state))
        else:
            event = mapper.to_domain_event(notification)
            decoded.append(LoggedEvent(notification.id, type(event), dict(vars(event))))
    return decoded


_DIRECTIONS = {member.value: member for member in Direction}
_ROLES = {member.value: member for member in Role}


def _tap_state(mapper: Mapper[Any], payload: bytes) -> dict[str, Any]:
    """A Tap.Recorded state stored as JSON, as the transcoder would decode it, without its walk
    over every value (which was most of a catch-up's decoding time)."""
    state: dict[str, Any] = orjson.loads(payload)
    try:
        for key in ("timestamp", "reader_time", "received_at"):
            tagged = state[key]
            if tagged["_type_"] != "datetime_iso":
                raise TypeError(key)
            state[key] = datetime.fromisoformat(tagged["_data_"])
        tagged = state["direction"]
        if tagged["_type_"] != "enum:Direction":
            raise TypeError("direction")
        state["direction"] = _DIRECTIONS[tagged["_data_"]]
        actor = state["actor"]["_data_"]
        state["actor"] = Actor(_ROLES[actor["role"]], actor["id"])
    except (KeyError, TypeError):
        return dict(mapper.transcoder.decode(payload))
    return state
