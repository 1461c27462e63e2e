"""直接入力 and 訂正: manual entries and corrections, and the prime's decisions on them."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from api.schemas.common import (
    BusinessIdField,
    CreateModel,
    Reason,
    Receipt,
    SiteIdField,
    TechnicianIdField,
)
from ledger.domain.base import Position
from ledger.domain.requests import RequestStatus


class ManualEntryCreate(CreateModel):
    """A work record entered after the fact, by the worker or their employer."""

    technician_id: TechnicianIdField
    site_id: SiteIdField
    work_date: date = Field(description="就業日 (JST); requests close at the end of the next month")
    employer_business_id: BusinessIdField
    trade: str = Field(min_length=1, max_length=40, examples=["鉄筋"])
    position: Position
    work_content: str = Field(min_length=1, max_length=500, examples=["配筋"])
    entry_at: AwareDatetime | None = None
    exit_at: AwareDatetime | None = None
    note: str = Field(default="", max_length=500)


class CorrectionChanges(CreateModel):
    """The fields to change; at least one."""

    trade: str | None = Field(default=None, min_length=1, max_length=40)
    position: Position | None = None
    work_content: str | None = Field(default=None, min_length=1, max_length=500)
    entry_at: AwareDatetime | None = None
    exit_at: AwareDatetime | None = None


class CorrectionCreate(CreateModel):
    """A change to one work record (worker × site × date), with the reason."""

    technician_id: TechnicianIdField
    site_id: SiteIdField
    work_date: date
    employer_business_id: BusinessIdField
    changes: CorrectionChanges
    reason: Reason


class Rejection(CreateModel):
    reason: Reason


class RequestPublic(Receipt):
    request_id: UUID
    kind: Literal["manual_entry", "correction"]
    status: RequestStatus
