"""Gate readers."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import CreateModel, ReaderIdField, Reason, Receipt, SiteIdField
from ledger.domain.registry import DirectionMode


class ReaderCreate(CreateModel):
    reader_id: ReaderIdField
    site_id: SiteIdField
    direction_mode: DirectionMode = Field(
        default=DirectionMode.AUTO, description="in, out, or auto (alternates per worker per day)"
    )


class ReaderPublic(Receipt):
    reader_id: str
    site_id: str


class ReaderRetire(CreateModel):
    reason: Reason
