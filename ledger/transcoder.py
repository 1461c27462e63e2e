"""An orjson-based transcoder for stored events.

orjson encodes datetime and UUID natively but decodes them as strings; events must come back with
the types they were stored with, so non-JSON values are tagged ``{"_type_": name, "_data_": …}``
(the same envelope as the library's JSONTranscoder) before orjson sees them.

Taps are stored in a compact layout instead (`ledger.tap_codec`, written by the mapper and the
tap insert in `ledger.storage.tap_events`); decoding reads either form, so a tap stored as JSON
before the layout existed reads as it always did.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Transcoder, Transcoding, TranscodingNotRegisteredError

from ledger import tap_codec
from ledger.actors import Actor, Role

_PLAIN = (str, int, float, bool, type(None))


class OrjsonTranscoder(Transcoder):
    def __init__(self) -> None:
        self.types: dict[type, Transcoding] = {}
        self.names: dict[str, Transcoding] = {}

    def register(self, transcoding: Transcoding) -> None:
        self.types[transcoding.type] = transcoding
        self.names[transcoding.name] = transcoding

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(self._tag(obj))

    def decode(self, data: bytes) -> Any:
        if tap_codec.is_compact(data):
            return tap_codec.decode(data)
        return self._untag(orjson.loads(data))

    def _tag(self, value: Any) -> Any:
        kind = type(value)
        if kind in _PLAIN:
            return value
        if kind is dict:
            # Inline the common case (a flat dict of plain values): this walk is on the ingest path.
            tagged = {}
            for key, item in value.items():
                tagged[key] = item if type(item) in _PLAIN else self._tag(item)
            return tagged
        if kind is list or kind is tuple:
            return [self._tag(item) for item in value]
        transcoding = self.types.get(kind)
        if transcoding is not None:
            return {"_type_": transcoding.name, "_data_": self._tag(transcoding.encode(value))}
        if isinstance(value, str):  # validated ID types are plain strings once stored
            return str(value)
        raise TranscodingNotRegisteredError(f"Object of type {kind} is not serializable")

    def _untag(self, value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self._decode_tagged(value)
            untagged = {}
            for key, item in value.items():
                if type(item) is dict:
                    # Inline the common case (a tagged scalar): this walk is on the replay path.
                    data = item.get("_data_")
                    if len(item) == 2 and "_type_" in item and type(data) in _PLAIN:
                        untagged[key] = self._transcoding(item["_type_"]).decode(data)
                    else:
                        untagged[key] = self._untag(item)
                elif type(item) is list:
                    untagged[key] = self._untag(item)
                else:
                    untagged[key] = item
            return untagged
        if kind is list:
            return [self._untag(item) for item in value]
        return value

    def _decode_tagged(self, value: dict[str, Any]) -> Any:
        return self._transcoding(value["_type_"]).decode(self._untag(value["_data_"]))

    def _transcoding(self, name: str) -> Transcoding:
        try:
            return self.names[name]
        except KeyError:
            msg = f"Data serialized with name {name!r} is not deserializable"
            raise TranscodingNotRegisteredError(msg) from None


class DatetimeAsISO(Transcoding):
    type = datetime
    name = "datetime_iso"

    def encode(self, obj: datetime) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> datetime:
        return datetime.fromisoformat(data)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class UUIDAsHex(Transcoding):
    type = UUID
    name = "uuid_hex"

    def encode(self, obj: UUID) -> str:
        return obj.hex

    def decode(self, data: str) -> UUID:
        return UUID(data)


class DecimalAsStr(Transcoding):
    type = Decimal
    name = "decimal_str"

    def encode(self, obj: Decimal) -> str:
        return str(obj)

    def decode(self, data: str) -> Decimal:
        return Decimal(data)


class EnumAsValue(Transcoding):
    """One transcoding per enum class, named after the class, storing the member's value."""

    def __init__(self, enum_type: type[Enum]) -> None:
        self.type = enum_type
        self.name = f"enum:{enum_type.__name__}"
        self.members: dict[Any, Enum] = dict(enum_type._value2member_map_)

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        member = self.members.get(data)
        if member is None:
            member = self.type(data)  # raises ValueError naming the bad value
        return member


class ActorAsDict(Transcoding):
    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, str]:
        return {"role": obj.role.value, "id": obj.id}

    def decode(self, data: dict[str, str]) -> Actor:
        return Actor(Role(data["role"]), data["id"])


def ledger_transcoder(enums: tuple[type[Enum], ...]) -> OrjsonTranscoder:
    transcoder = OrjsonTranscoder()
    for transcoding in (DatetimeAsISO(), DateAsISO(), UUIDAsHex(), DecimalAsStr(), ActorAsDict()):
        transcoder.register(transcoding)
    for enum_type in enums:
        transcoder.register(EnumAsValue(enum_type))
    return transcoder
