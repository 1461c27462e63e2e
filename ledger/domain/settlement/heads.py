"""Signed daily heads: what a seal publishes, and how anyone checks it without the database.

A day's head names the day's log range, the RFC 6962 Merkle root over that day's events (the
*day root*), the hash of the previous day's head (the chain) and the root of the *log of heads*:
a Merkle tree whose leaves are every sealed day's head, so a monitor that kept an earlier head can
check a later one with a consistency proof. The head is signed with the ledger's Ed25519 seal key.
Keys change by a rotation statement signed by both the old and the new key.

Everything here is pure: bytes in, bytes or an error naming what failed out.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Self
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.domain.settlement.merkle import leaf_hash

HEAD_FORMAT = "ccus-ledger-seal-head/1"
KEY_FORMAT = "ccus-ledger-seal-key/1"
# A seal keeps, beside the log, the root of every aligned run of this many of its day's leaves:
# each is a subtree of the day's tree, so a proof for one event reads only its run's events.
CHUNK_LEAVES = 64


class SignatureError(ValueError):
    """A signature or key that does not hold, with what failed."""


def canonical(value: dict[str, Any]) -> bytes:
    """The one byte form of a head or statement: JSON, keys sorted, no spaces."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- events as leaves ----------------------------------------------------------------------------
def event_leaf_data(
    originator_id: UUID, version: int, topic: str, stored_state: bytes, plain_state: bytes
) -> bytes:
    """One stored event as a Merkle leaf. It commits to the stored bytes (any edit of the row
    changes it) and to the plain state (the transcoded JSON before compression and encryption),
    so a proof can show what the event says without the cipher key. Fields are length-prefixed
    or fixed-size, so bytes cannot move from one to the next."""
    return event_leaf_data_of_digests(originator_id, version, topic,
                                      hashlib.sha256(stored_state).digest(),
                                      hashlib.sha256(plain_state).digest())


def event_leaf_data_of_digests(
    originator_id: UUID, version: int, topic: str, stored_sha256: bytes, plain_sha256: bytes
) -> bytes:
    """The same leaf from the two states' SHA-256: what a proof checker recomputes, holding the
    plain state but not the stored (perhaps encrypted) bytes."""
    topic_bytes = topic.encode()
    return (b"E" + originator_id.bytes + version.to_bytes(8, "big", signed=True)
            + len(topic_bytes).to_bytes(4, "big") + topic_bytes + stored_sha256 + plain_sha256)


def event_leaf_hash(
    originator_id: UUID, version: int, topic: str, stored_state: bytes, plain_state: bytes
) -> bytes:
    return leaf_hash(event_leaf_data(originator_id, version, topic, stored_state, plain_state))


# -- keys ----------------------------------------------------------------------------------------
def public_key_bytes(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_of(public_key: bytes) -> str:
    """A key's short name: the first 16 hex digits of SHA-256 of its 32 raw bytes."""
    return sha256_hex(public_key)[:16]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise SignatureError(f"{what} is not base64") from None


def verify_signature(public_key: bytes, signature: str, message: bytes, what: str) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(unb64(signature, what), message)
    except (InvalidSignature, ValueError):
        raise SignatureError(f"{what}: the signature does not verify") from None


# -- heads ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeadBody:
    """What a day's seal signs."""

    day: date
    first_position: int  # exclusive
    last_position: int  # inclusive
    event_count: int  # leaves of the day's tree
    day_root: str  # hex: RFC 6962 root over the day's events
    previous_head_hash: str  # hex: the previous day's head_hash (or seal hash), or zeros
    tree_size: int  # sealed days in the log of heads, this one included
    log_root: str  # hex: RFC 6962 root over every sealed day's head leaf
    key_id: str

    def as_dict(self) -> dict[str, Any]:
        return {"format": HEAD_FORMAT, **asdict(self), "day": self.day.isoformat()}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Self:
        if value.get("format") != HEAD_FORMAT:
            raise SignatureError(f"not a seal head of format {HEAD_FORMAT}")
        fields = {k: v for k, v in value.items() if k != "format"}
        try:
            head = cls(**{**fields, "day": date.fromisoformat(str(fields["day"]))})
        except (TypeError, KeyError, ValueError) as error:
            raise SignatureError(f"the head's fields: {error}") from None
        return head

    def message(self) -> bytes:
        return canonical(self.as_dict())

    @property
    def head_hash(self) -> str:
        return sha256_hex(self.message())

    def leaf(self) -> bytes:
        """This day's leaf in the log of heads: everything known before the day was sealed (not
        the log root, which includes the leaf itself)."""
        return leaf_hash(canonical({
            "format": HEAD_FORMAT, "day": self.day.isoformat(),
            "first_position": self.first_position, "last_position": self.last_position,
            "event_count": self.event_count, "day_root": self.day_root,
            "previous_head_hash": self.previous_head_hash}))


@dataclass(frozen=True)
class SignedHead:
    body: HeadBody
    signature: str  # base64 Ed25519 over body.message()
    claimed_hash: str | None = field(default=None, compare=False)  # a copy's "head_hash"

    @classmethod
    def sign(cls, body: HeadBody, key: Ed25519PrivateKey) -> Self:
        if key_id_of(public_key_bytes(key)) != body.key_id:
            raise SignatureError("the head names another key than the one signing it")
        return cls(body, b64(key.sign(body.message())))

    def as_dict(self) -> dict[str, Any]:
        return {"head": self.body.as_dict(), "head_hash": self.body.head_hash,
                "signature": self.signature}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Self:
        if not isinstance(value, dict) or not isinstance(value.get("head"), dict):
            raise SignatureError("not a signed head (no 'head' object)")
        claimed = value.get("head_hash")
        return cls(HeadBody.from_dict(value["head"]), str(value.get("signature", "")),
                   None if claimed is None else str(claimed))

    def verify(self, keys: KeyRing) -> None:
        if self.claimed_hash is not None and self.claimed_hash != self.body.head_hash:
            raise SignatureError(f"head of {self.body.day}: its head_hash does not match its "
                                 "contents")
        public_key = keys.key_for(self.body.key_id, self.body.day)
        verify_signature(public_key, self.signature, self.body.message(),
                         f"head of {self.body.day}")


# -- key rotation --------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyStatement:
    """A seal key's introduction: the first key signs itself (genesis); a later key is named by a
    statement the previous key signs, and the new key signs too (it holds the private half). From
    `from_day` on, heads are signed by the new key; heads before it by the previous ones."""

    key_id: str
    public_key: str  # base64 of the 32 raw bytes
    from_day: date
    previous_key_id: str | None
    previous_public_key: str | None
    signature: str  # by the new key
    previous_signature: str | None  # by the previous key

    def body(self) -> dict[str, Any]:
        return {"format": KEY_FORMAT, "key_id": self.key_id, "public_key": self.public_key,
                "from_day": self.from_day.isoformat(), "previous_key_id": self.previous_key_id,
                "previous_public_key": self.previous_public_key}

    def as_dict(self) -> dict[str, Any]:
        return {**self.body(), "signature": self.signature,
                "previous_signature": self.previous_signature}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Self:
        if not isinstance(value, dict) or value.get("format") != KEY_FORMAT:
            raise SignatureError(f"not a key statement of format {KEY_FORMAT}")
        try:
            return cls(str(value["key_id"]), str(value["public_key"]),
                       date.fromisoformat(str(value["from_day"])), value.get("previous_key_id"),
                       value.get("previous_public_key"), str(value["signature"]),
                       value.get("previous_signature"))
        except (KeyError, ValueError) as error:
            raise SignatureError(f"the key statement's fields: {error}") from None

    @classmethod
    def introduce(
        cls, key: Ed25519PrivateKey, from_day: date, previous: Ed25519PrivateKey | None = None
    ) -> Self:
        public = public_key_bytes(key)
        unsigned = cls(key_id_of(public), b64(public), from_day,
                       None if previous is None else key_id_of(public_key_bytes(previous)),
                       None if previous is None else b64(public_key_bytes(previous)), "", None)
        message = canonical(unsigned.body())
        return cls(**{**unsigned.__dict__, "signature": b64(key.sign(message)),
                      "previous_signature": None if previous is None
                      else b64(previous.sign(message))})

    def check(self) -> None:
        """Both signatures hold and the key IDs name the keys given."""
        message = canonical(self.body())
        public = unb64(self.public_key, f"key {self.key_id}")
        if key_id_of(public) != self.key_id:
            raise SignatureError(f"key {self.key_id}: its ID does not match its public key")
        verify_signature(public, self.signature, message, f"key statement of {self.key_id}")
        if self.previous_key_id is None:
            return
        if self.previous_public_key is None or self.previous_signature is None:
            raise SignatureError(f"key statement of {self.key_id}: the previous key's part is "
                                 "missing")
        previous = unb64(self.previous_public_key, f"key {self.previous_key_id}")
        if key_id_of(previous) != self.previous_key_id:
            raise SignatureError(f"key {self.previous_key_id}: its ID does not match its key")
        verify_signature(previous, self.previous_signature, message,
                         f"rotation to {self.key_id} by {self.previous_key_id}")


class KeyRing:
    """The seal keys one trusts: the keys given, and every key joined to one of them by a rotation
    statement whose signatures hold (either way: an old key trusted vouches for the new one, a
    new key trusted names the old one). Each key signs the days from its statement's from_day
    until the next key's."""

    def __init__(self, trusted: list[bytes], statements: list[KeyStatement]) -> None:
        for statement in statements:
            statement.check()
        self._statements = sorted(statements, key=lambda s: s.from_day)
        self._keys: dict[str, bytes] = {key_id_of(k): k for k in trusted}
        changed = True
        while changed:
            changed = False
            for s in self._statements:
                if s.previous_key_id is None or s.previous_public_key is None:
                    continue
                if s.previous_key_id in self._keys and s.key_id not in self._keys:
                    self._keys[s.key_id] = unb64(s.public_key, "key")
                    changed = True
                elif s.key_id in self._keys and s.previous_key_id not in self._keys:
                    self._keys[s.previous_key_id] = unb64(s.previous_public_key, "key")
                    changed = True

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def key_for(self, key_id: str, day: date) -> bytes:
        if key_id not in self._keys:
            raise SignatureError(f"head of {day}: signed by key {key_id}, which is not a "
                                 f"trusted seal key (trusted: {', '.join(self.key_ids) or 'none'})")
        window = self._window(key_id)
        if window is not None and not (window[0] <= day and (window[1] is None
                                                             or day < window[1])):
            raise SignatureError(f"head of {day}: key {key_id} signs only from {window[0]}"
                                 + ("" if window[1] is None else f" until before {window[1]}"))
        return self._keys[key_id]

    def _window(self, key_id: str) -> tuple[date, date | None] | None:
        for index, s in enumerate(self._statements):
            if s.key_id == key_id:
                later = self._statements[index + 1:]
                return s.from_day, (later[0].from_day if later else None)
        return None  # a trusted key with no statement: no window known
