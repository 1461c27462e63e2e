"""Stored events as the projection reads them: (log position, event name, state).

Most of the log is taps. ``Tap.Recorded`` has one version and no upcasts, so its stored state is
decoded straight into a dict (decrypted first when a cipher is set) instead of through the library's
event object. Every other event goes through the library's mapper, with its upcasts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from eventsourcing.persistence import Mapper, Notification
from eventsourcing.utils import get_topic

from ledger.domain.taps import Tap

TAP_RECORDED_TOPIC = get_topic(Tap.Recorded)  # type: ignore[attr-defined]
assert getattr(Tap.Recorded, "class_version", 1) == 1, "upcast taps through the mapper"  # type: ignore[attr-defined]


class LoggedEvent(NamedTuple):
    position: int
    name: str  # e.g. "Tap.Recorded", "ApprovableRequest.Approved"
    state: dict[str, Any]  # the event's attributes, originator_id and timestamp included

    @property
    def timestamp(self) -> datetime:
        recorded: datetime = self.state["timestamp"]
        return recorded


def decode(mapper: Mapper[Any], notifications: Sequence[Notification]) -> list[LoggedEvent]:
    decoded: list[LoggedEvent] = []
    for notification in notifications:
        if notification.topic == TAP_RECORDED_TOPIC:
            payload = notification.state
            if mapper.cipher is not None:
                payload = mapper.cipher.decrypt(payload)
            if mapper.compressor is not None:
                payload = mapper.compressor.decompress(payload)
            state = mapper.transcoder.decode(payload)
            state["originator_id"] = notification.originator_id
            state["originator_version"] = notification.originator_version
            decoded.append(LoggedEvent(notification.id, "Tap.Recorded", state))
        else:
            event = mapper.to_domain_event(notification)
            decoded.append(
                LoggedEvent(notification.id, type(event).__qualname__, dict(vars(event)))
            )
    return decoded
