"""経歴証明: the signed career proof as the API answers it (the document `ledger verify-proof`
checks; its parts are described in `ledger.domain.settlement.career_proof`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class CareerProofPublic(BaseModel):
    """The whole proof, byte for byte what the ledger signed: save it as JSON and check it
    offline with `ledger verify-proof FILE --public-key KEY`."""

    format: str = Field(description="ccus-ledger-career-proof/1")
    statement: dict[str, Any] = Field(
        description="What the seal key signed: the worker, the trade, the period, the figures "
        "(proven, counted by the ledger, certified), each proven record with the log position "
        "and Merkle leaf of each event behind it, the records left out (not sealed yet), the "
        "cards and readers the taps name, the last sealed day and the key ID")
    signature: str = Field(description="Ed25519 over the statement's canonical JSON (base64)")
    event_proofs: list[dict[str, Any]] = Field(
        description="One inclusion proof per event: its plain state, the SHA-256 of its stored "
        "bytes, its leaf index in its day's tree, and the audit path to that day's root")
    heads: list[dict[str, Any]] = Field(description="The signed daily heads the proofs reach")
    key_statements: list[dict[str, Any]] = Field(
        description="The seal keys' statements, joining older heads' keys to the current key")
