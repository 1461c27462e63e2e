"""Signed daily heads, the seal keys, and consistency proofs: for outside monitors."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field


class HeadPublic(BaseModel):
    """What a day's seal signs (canonical JSON of these fields, keys sorted, no spaces)."""

    format: str
    day: date
    first_position: int = Field(description="The log position before the day's first event")
    last_position: int = Field(description="The day's last event's log position")
    event_count: int = Field(description="Leaves of the day's tree")
    day_root: str = Field(description="RFC 6962 Merkle root over the day's events (hex)")
    previous_head_hash: str = Field(description="SHA-256 of the previous day's head (hex)")
    tree_size: int = Field(description="Signed days in the log of heads, this one included")
    log_root: str = Field(description="RFC 6962 root over every signed day's head (hex)")
    key_id: str = Field(description="The signing key's ID (SHA-256 of its raw bytes, 16 hex)")


class SignedHeadPublic(BaseModel):
    head: HeadPublic
    head_hash: str = Field(description="SHA-256 of the head's canonical JSON (hex)")
    signature: str = Field(description="Ed25519 over the head's canonical JSON (base64)")

    @classmethod
    def of(cls, value: dict[str, Any]) -> SignedHeadPublic:
        return cls.model_validate(value)


class SignedHeadList(BaseModel):
    items: list[SignedHeadPublic]
    next_after: date | None = Field(description="Give as `after` for the next page; null at "
                                                "the end")


class KeyStatementPublic(BaseModel):
    """A seal key's introduction: the first key signs itself; a later one is signed by the key
    before it too. From `from_day` on, heads are signed by this key."""

    format: str
    key_id: str
    public_key: str = Field(description="Ed25519 public key, 32 raw bytes in base64")
    from_day: date
    previous_key_id: str | None
    previous_public_key: str | None
    signature: str
    previous_signature: str | None


class SealKeysPublic(BaseModel):
    key_id: str | None = Field(description="The key signing new heads (null before any seal)")
    public_key_pem: str | None
    statements: list[KeyStatementPublic] = Field(description="Every key, oldest first")


class ConsistencyProofPublic(BaseModel):
    """The later head's log of heads extends the earlier one's (RFC 9162 §2.1.4)."""

    format: str
    earlier: SignedHeadPublic
    later: SignedHeadPublic
    path: list[str] = Field(description="The proof's node hashes (hex)")
