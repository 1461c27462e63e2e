"""``Tap.Recorded`` in its compact stored form: layout 1, a CBOR array (RFC 8949).

Taps are nearly the whole log. As tagged JSON a tap's state was about 500 bytes (field names, type
envelopes, ISO strings, the aggregate's topic), four fifths of its row; layout 1 holds the same
values in about 40. Stored events are never rewritten: a tap stored as JSON keeps its bytes and
is read as before, and the plain state says which form it is in (JSON starts with ``{``, layout
1 with a CBOR array head, 0x89–0x8D). Both decode to the same event.

Layout 1, in order; the items after ``direction`` are left off from the end while they hold
their default:

 0. the layout number, 1
 1. ``received_at``: microseconds since 1970-01-01T00:00 on its own wall clock
 2. ``timestamp`` − ``received_at``, microseconds
 3. ``reader_time`` − ``received_at``, microseconds
 4. ``reader_time``'s UTC offset, seconds, less 9 hours (0 for JST, a byte instead of three)
 5. ``tap_id``: its sequence number when it is ``<reader_id>:<sequence>``, else the text
 6. ``reader_id``
 7. ``card_id``: its hex digits as bytes (an even count of them), else the text; null if none
 8. ``direction``: 0 in, 1 out, 2 unknown
 9. ``technician_id``: an integer written with 14 digits, else the text; default null
10. ``actor``: [role, ID]; default the reader itself (role ``reader``, ID ``reader_id``)
11. ``received_at``'s UTC offset, seconds; default 0
12. ``timestamp``'s UTC offset, seconds; default 0

``originator_topic`` is always the ``Tap`` aggregate's and is not stored. A tap the layout cannot
hold exactly (an offset with a fraction of a second, another aggregate topic) is stored as JSON,
as before (`encode` answers None).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import cbor2
from eventsourcing.utils import get_topic

from ledger.actors import Actor, Role
from ledger.domain.taps import COMPACT_TOPIC, Direction, Tap

LAYOUT = 1
TOPIC = COMPACT_TOPIC  # the stored topic of a Tap.Recorded in layout 1 ("t")
TAP_TOPIC = get_topic(Tap)  # every Tap.Recorded's originator_topic
_ARRAY_HEADS = (0x89, 0x8D)  # CBOR arrays of 9 to 13 items
_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_SECOND = timedelta(seconds=1)
_JST_SECONDS = 9 * 3600
_DIRECTIONS = {0: Direction.IN, 1: Direction.OUT, 2: Direction.UNKNOWN}
_DIRECTION_CODES = {direction: code for code, direction in _DIRECTIONS.items()}
_ROLES = {role.value: role for role in Role}
_FIELDS = 9  # items always present; up to 4 optional ones follow, each with its default:
_DEFAULTS = {9: (None,), 10: (None,), 11: (0,), 12: (0,)}
_HEX = frozenset("0123456789ABCDEF")
_EPOCHS: dict[int, datetime] = {}  # 1970-01-01T00:00 on the wall clock of each UTC offset


def is_compact(plain: bytes) -> bool:
    """Whether a stored (decrypted) state is layout 1 rather than JSON."""
    return bool(plain) and _ARRAY_HEADS[0] <= plain[0] <= _ARRAY_HEADS[1]


class Packer:
    """Taps received at one moment from one party, packed one by one. Not shared between
    threads: it reuses one encoder (a new encoder per tap costs as much as the rest of it)."""

    def __init__(self, received_at: datetime, actor: Actor) -> None:
        self.received_at = received_at
        self._received_offset = _seconds(received_at)
        self._received = (received_at.replace(tzinfo=None) - _EPOCH) // _MICROSECOND
        self._actor = actor
        self._actor_item = [actor.role.value, actor.id]
        self._buffer = io.BytesIO()
        self._encoder = cbor2.CBOREncoder(self._buffer)

    def pack(
        self,
        timestamp: datetime,
        tap_id: str,
        reader_id: str,
        card_id: str | None,
        technician_id: str | None,
        direction: Direction,
        reader_time: datetime,
    ) -> bytes | None:
        """Layout 1 of these values, or None when it cannot hold them exactly."""
        reader_offset, stamp_offset = _seconds(reader_time), _seconds(timestamp)
        code = _DIRECTION_CODES.get(direction)
        if (self._received_offset is None or reader_offset is None or stamp_offset is None
                or code is None):
            return None
        sequence = tap_id[len(reader_id) + 1:]
        items: list[Any] = [
            LAYOUT,
            self._received,
            (timestamp - self.received_at) // _MICROSECOND,
            (reader_time - self.received_at) // _MICROSECOND,
            reader_offset - _JST_SECONDS,
            int(sequence) if tap_id == f"{reader_id}:{sequence}" and _canonical(sequence)
            else tap_id,
            reader_id,
            _card(card_id),
            code,
            _technician(technician_id),
            None if self._actor.role is Role.READER and self._actor.id == reader_id
            else self._actor_item,
            self._received_offset,
            stamp_offset,
        ]
        while len(items) > _FIELDS and items[-1] in _DEFAULTS[len(items) - 1]:
            items.pop()
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        self._encoder.encode(items)
        return buffer.getvalue()


def encode(state: Mapping[str, Any]) -> bytes | None:
    """Layout 1 of a ``Tap.Recorded`` event's state (its attributes, as the mapper has them),
    or None when the layout cannot hold it exactly."""
    if state.get("originator_topic") != TAP_TOPIC or state.get("class_version", 1) != 1:
        return None
    return Packer(state["received_at"], state["actor"]).pack(
        state["timestamp"], state["tap_id"], state["reader_id"], state["card_id"],
        state["technician_id"], state["direction"], state["reader_time"])


def decode(plain: bytes) -> dict[str, Any]:
    """The state layout 1 holds, with the types the transcoder gives a JSON-stored tap."""
    return unpack(cbor2.loads(plain))


def unpack(items: Any) -> dict[str, Any]:
    """The state of decoded layout-1 items (see `decode`)."""
    if type(items) is not list or not _FIELDS <= len(items) <= 13 or items[0] != LAYOUT:
        raise ValueError("not a tap in layout 1 (a CBOR array of 9 to 13 items, first 1)")
    try:
        received, stamp, reader, reader_offset, sequence, reader_id, card, code = items[1:9]
        technician, actor, received_offset, stamp_offset = (
            items[9:] + [None, None, 0, 0][len(items) - _FIELDS:])
        if type(reader_id) is not str:
            raise TypeError("reader_id is not text")
        # Each moment's wall clock in µs since 1970-01-01T00:00 on that wall clock, added to
        # that wall clock's 1970 (aware + timedelta moves the wall clock only).
        instant = received - received_offset * 1_000_000
        return {
            "timestamp": _moment(instant + stamp, stamp_offset),
            "originator_topic": TAP_TOPIC,
            "tap_id": f"{reader_id}:{sequence}" if type(sequence) is int else _text(sequence),
            "reader_id": reader_id,
            "card_id": card.hex().upper() if type(card) is bytes else _text_or_none(card),
            "technician_id": (f"{technician:014d}" if type(technician) is int
                              else _text_or_none(technician)),
            "direction": _DIRECTIONS[code],
            "reader_time": _moment(instant + reader, reader_offset + _JST_SECONDS),
            "received_at": _moment(instant, received_offset),
            "actor": _reader_actor(reader_id) if actor is None else Actor(
                _ROLES[actor[0]], _text(actor[1])),
        }
    except (IndexError, KeyError, TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"a tap in layout 1 with a bad item: {error!r}") from None


def content(plain: bytes) -> dict[str, Any]:
    """The state as its JSON form reads once its type tags are dropped (ISO times, the
    direction's value, the actor as role and ID): what a proof shows of a tap."""
    state = decode(plain)
    for key in ("timestamp", "reader_time", "received_at"):
        state[key] = state[key].isoformat()
    state["direction"] = state["direction"].value
    actor: Actor = state["actor"]
    state["actor"] = {"role": actor.role.value, "id": actor.id}
    return state


def _seconds(moment: datetime) -> int | None:
    """A moment's UTC offset in whole seconds; None when it is naive or has a fraction."""
    offset = moment.utcoffset()
    if offset is None or offset % _SECOND:
        return None
    return offset // _SECOND


def _moment(instant: int, offset: int) -> datetime:
    """The moment `instant` µs after 1970-01-01T00:00Z, on the wall clock of `offset` seconds.
    Wall-clock arithmetic only, so no step leaves the year range the moment itself is in."""
    epoch = _EPOCHS.get(offset)
    if epoch is None:
        if type(offset) is not int:
            raise TypeError("a UTC offset is not an integer")
        epoch = _EPOCHS.setdefault(offset, _EPOCH.replace(tzinfo=timezone(timedelta(
            seconds=offset))))
    return epoch + timedelta(0, offset, instant)


@lru_cache(maxsize=65_536)
def _reader_actor(reader_id: str) -> Actor:
    """A reader appending its own taps (the default actor); frozen, so one per reader."""
    return Actor(Role.READER, reader_id)


def _canonical(sequence: str) -> bool:
    return sequence.isdigit() and sequence.isascii() and (sequence == "0" or sequence[0] != "0")


def _card(card_id: str | None) -> bytes | str | None:
    if card_id is None:
        return None
    if len(card_id) % 2 == 0 and _HEX.issuperset(card_id):
        return bytes.fromhex(card_id)
    return str(card_id)


def _technician(technician_id: str | None) -> int | str | None:
    if technician_id is None:
        return None
    if len(technician_id) == 14 and technician_id.isdigit() and technician_id.isascii():
        return int(technician_id)
    return str(technician_id)


def _text(value: Any) -> str:
    if type(value) is not str:
        raise TypeError(f"{value!r} is not text")
    return value


def _text_or_none(value: Any) -> str | None:
    return None if value is None else _text(value)
