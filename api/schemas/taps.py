"""打刻: the gate readers' batch upload. This contract is what the reader agent is built against."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from api.schemas.common import CreateModel
from ledger.ids import CardId, ReaderId, TapId, TechnicianId

MAX_TAPS = 5_000


def _hint(schema: dict[str, Any]) -> Any:
    return Field(json_schema_extra=schema)


# The document's schema of a tap only: nothing is validated through it (see `TapSent`).
class TapIn(BaseModel):
    """One tap as the reader stored it. Each tap is checked on its own: a malformed tap is
    answered `rejected` with the reason, and the rest of the batch is stored."""

    model_config = ConfigDict(
        json_schema_extra={"required": ["tap_id", "reader_id", "reader_time"],
                           "additionalProperties": False},
    )

    # Typed loosely on purpose (the schema says what is expected): a wrong type must reject
    # this tap, not the whole batch.
    tap_id: Any = _hint({"type": "string", "pattern": f"^{TapId.pattern.pattern}$",
                         "description": TapId.rule, "examples": ["GATE-1:42"]})
    reader_id: Any = _hint({"type": "string", "pattern": f"^{ReaderId.pattern.pattern}$",
                            "examples": ["GATE-1"]})
    card_id: Any = _hint({"type": ["string", "null"], "description": CardId.rule})
    technician_id: Any = _hint({"type": ["string", "null"], "description": TechnicianId.rule})
    direction: Any = _hint({"type": "string", "enum": ["in", "out", "unknown"],
                            "default": "unknown"})
    reader_time: Any = _hint({"type": "string", "format": "date-time",
                              "description": "The reader's clock, with its UTC offset"})


# A tap is documented as a TapIn but taken as the JSON value it was sent as: the route checks
# each one (`api.intake.parse_tap`), so that a malformed tap rejects itself only. Validating 500
# TapIn models only to dump them again took about a tenth of the CPU of a batch. The document
# lists TapIn among its schemas (`api.openapi.DOCUMENTED`).
TapSent = Annotated[Any, WithJsonSchema({"$ref": f"#/components/schemas/{TapIn.__name__}"})]


class TapBatchCreate(CreateModel):
    taps: list[TapSent] = Field(max_length=MAX_TAPS, description=f"At most {MAX_TAPS} taps")


TapStatus = Literal["accepted", "duplicate", "flagged", "conflict", "rejected"]


class TapResult(BaseModel):
    tap_id: str | None = Field(description=(
        "The tap ID as stored, in its canonical form (the sequence as a number: R-A1:0000007 is "
        "R-A1:7); as sent, or null if it was not a string, when rejected"))
    status: TapStatus = Field(description=(
        "accepted: stored now; duplicate: stored before with the same content (or earlier in "
        "this batch); flagged: stored, and needs the site's attention (see flags); conflict: "
        "the tap ID was stored before with other content (another card, time or direction): "
        "this version is stored too, never counted as a work record, and listed in the site's "
        "exceptions to resolve; rejected: malformed, not stored"))
    flags: list[str] = Field(description=(
        "Why a stored tap needs attention: unknown_card, revoked_card, unregistered_reader, "
        "clock_skew, conflict; the site's exceptions list the tap with the same flags"))
    reason: str | None = Field(description="Why the tap was rejected, naming the field")
    position: int | None = Field(
        description="Log position of the stored tap (accepted, flagged, conflict)")
    content_hash: str | None = Field(default=None, description=(
        "conflict: SHA-256 of this version's content (reader, card or technician, direction, "
        "reader time in UTC)"))
    stored_content_hash: str | None = Field(default=None, description=(
        "conflict: the content hash of the version stored first under this tap ID"))


class TapBatchPublic(BaseModel):
    results: list[TapResult] = Field(description="One per tap sent, in the same order")
    position: int = Field(description="Log position after this batch")
    server_time: datetime
