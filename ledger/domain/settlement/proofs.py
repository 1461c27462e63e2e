"""A sealed event's inclusion proof, checked with no database: the event as the ledger stored it
(its plain state; the SHA-256 of its stored, perhaps encrypted, bytes), where it stands in its
day's tree, and the audit path to that day's signed root."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any, Self
from uuid import UUID

import orjson

from ledger import tap_codec
from ledger.domain.settlement.heads import (
    KeyRing,
    SignatureError,
    SignedHead,
    event_leaf_data_of_digests,
)
from ledger.domain.settlement.merkle import (
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

CONSISTENCY_FORMAT = "ccus-ledger-seal-consistency/1"


@dataclass(frozen=True)
class EventProof:
    position: int  # the event's place in the log, for reference (not part of the leaf)
    originator_id: UUID
    version: int
    topic: str
    stored_sha256: str  # hex
    plain_state: bytes  # the transcoded JSON the ledger stored (before compression/encryption)
    day: date  # the sealed day whose tree holds it (the day it was recorded, JST)
    leaf_index: int
    path: list[bytes]

    def leaf(self) -> bytes:
        return leaf_hash(event_leaf_data_of_digests(
            self.originator_id, self.version, self.topic, bytes.fromhex(self.stored_sha256),
            hashlib.sha256(self.plain_state).digest()))

    def verify(self, head: SignedHead) -> None:
        """The event is leaf `leaf_index` of the tree whose root `head` signed (the head's own
        signature is checked apart, once per head)."""
        if head.body.day != self.day:
            raise ProofError(f"event {self.originator_id} v{self.version}: proven against the "
                             f"head of {head.body.day}, but it names {self.day}")
        try:
            verify_inclusion(self.leaf(), self.leaf_index, head.body.event_count, self.path,
                             bytes.fromhex(head.body.day_root))
        except ProofError as error:
            raise ProofError(f"event {self.originator_id} v{self.version} of {self.day}: "
                             f"{error}") from None

    def content(self) -> dict[str, Any]:
        """What the event says, its type tags dropped (for reading; the bytes are what count).
        A tap in the compact layout reads as its JSON form would (`ledger.tap_codec`)."""
        if tap_codec.is_compact(self.plain_state):
            return tap_codec.content(self.plain_state)
        state = orjson.loads(self.plain_state)
        return untag(state) if isinstance(state, dict) else {"state": state}

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "originator_id": str(self.originator_id),
                "version": self.version, "topic": self.topic,
                "stored_sha256": self.stored_sha256,
                "plain_state": base64.b64encode(self.plain_state).decode(),
                "day": self.day.isoformat(), "leaf_index": self.leaf_index,
                "path": [node.hex() for node in self.path]}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Self:
        try:
            return cls(int(value["position"]), UUID(str(value["originator_id"])),
                       int(value["version"]), str(value["topic"]), str(value["stored_sha256"]),
                       base64.b64decode(value["plain_state"], validate=True),
                       date.fromisoformat(str(value["day"])), int(value["leaf_index"]),
                       [bytes.fromhex(node) for node in value["path"]])
        except (KeyError, TypeError, ValueError) as error:
            raise ProofError(f"an event proof's fields: {error}") from None


@dataclass(frozen=True)
class ConsistencyProof:
    """The later head's log of heads extends the earlier one's: every day the earlier head
    covered is still there, unchanged, in the later log (RFC 9162 consistency proof)."""

    earlier: SignedHead
    later: SignedHead
    path: list[bytes]

    def verify(self, keys: KeyRing, kept: SignedHead | None = None) -> str:
        """Check both signatures and the proof; with `kept` (the earlier head as a monitor kept
        it), also that the proof starts from exactly that head. Returns what was proven."""
        if kept is not None and kept.body.head_hash != self.earlier.body.head_hash:
            raise ProofError(f"the proof starts from another head of {self.earlier.body.day} "
                             "than the one kept: the ledger rewrote that day")
        for head in (self.earlier, self.later):
            try:
                head.verify(keys)
            except SignatureError as error:
                raise ProofError(str(error)) from None
        old, new = self.earlier.body, self.later.body
        if new.day < old.day:
            raise ProofError(f"the later head ({new.day}) is older than the earlier ({old.day})")
        verify_consistency(old.tree_size, new.tree_size, bytes.fromhex(old.log_root),
                           bytes.fromhex(new.log_root), self.path)
        return (f"the signed log of heads of {new.day} ({new.tree_size} day(s)) extends the one "
                f"of {old.day} ({old.tree_size} day(s)): no day up to {old.day} was removed or "
                "changed since")

    def as_dict(self) -> dict[str, Any]:
        return {"format": CONSISTENCY_FORMAT, "earlier": self.earlier.as_dict(),
                "later": self.later.as_dict(), "path": [node.hex() for node in self.path]}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Self:
        if not isinstance(value, dict) or value.get("format") != CONSISTENCY_FORMAT:
            raise ProofError(f"not a consistency proof of format {CONSISTENCY_FORMAT}")
        try:
            return cls(SignedHead.from_dict(value["earlier"]), SignedHead.from_dict(
                value["later"]), [bytes.fromhex(node) for node in value["path"]])
        except (KeyError, TypeError, ValueError) as error:
            raise ProofError(f"the consistency proof's fields: {error}") from None


def untag(value: Any) -> Any:
    """The stored JSON without the transcoder's type envelopes ({"_type_", "_data_"})."""
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            return untag(value["_data_"])
        return {key: untag(item) for key, item in value.items()}
    if isinstance(value, list):
        return [untag(item) for item in value]
    return value
