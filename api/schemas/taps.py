"""打刻: the gate readers' batch upload. This contract is what the reader agent is built against."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import CreateModel
from ledger.ids import CardId, ReaderId, TapId, TechnicianId

MAX_TAPS = 5_000
NOT_AN_OBJECT = "__not_an_object__"


def _hint(schema: dict[str, Any]) -> Any:
    return Field(default=None, json_schema_extra=schema)


class TapIn(BaseModel):
    """One tap as the reader stored it. Each tap is checked on its own: a malformed tap is
    answered `rejected` with the reason, and the rest of the batch is stored."""

    model_config = ConfigDict(
        extra="allow",
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

    @model_validator(mode="before")
    @classmethod
    def _keep_non_objects(cls, data: Any) -> Any:
        return data if isinstance(data, dict) else {NOT_AN_OBJECT: data}


class TapBatchCreate(CreateModel):
    taps: list[TapIn] = Field(max_length=MAX_TAPS, description=f"At most {MAX_TAPS} taps")


TapStatus = Literal["accepted", "duplicate", "flagged", "rejected"]


class TapResult(BaseModel):
    tap_id: str | None = Field(description="As sent (null if it was not a string)")
    status: TapStatus = Field(description=(
        "accepted: stored now; duplicate: stored before (or earlier in this batch); flagged: "
        "stored, and needs the site's attention (e.g. unknown or revoked card); rejected: "
        "malformed, not stored"))
    flags: list[str] = Field(description="Why a stored tap needs attention")
    reason: str | None = Field(description="Why the tap was rejected, naming the field")
    position: int | None = Field(description="Log position of the stored tap (accepted, flagged)")


class TapBatchPublic(BaseModel):
    results: list[TapResult] = Field(description="One per tap sent, in the same order")
    position: int = Field(description="Log position after this batch")
    server_time: datetime
