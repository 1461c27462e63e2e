"""The audit trail: stored events, and the ledger as it was at a past moment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from api.query_params import DayField
from api.schemas.careers import CareerSummaryPublic
from api.schemas.common import CreateModel, TechnicianIdField
from api.schemas.lists import ListPublic, PublicModel


class AuditEntryPublic(PublicModel):
    position: int = Field(description="The event's place in the log (notification ID)")
    event_type: str
    originator_id: UUID
    actor: str | None = Field(description="role:id of who acted")
    recorded_at: datetime
    business_time: datetime | date | None = Field(description="The moment or date it is about")
    reason: str | None


class AuditEntryList(ListPublic):
    log_position: int = Field(description="The log's head when this page was read")
    items: list[AuditEntryPublic]


class ReplayCreate(CreateModel):
    """Replay the log up to `as_of` and answer a worker's career summary as it was then."""

    as_of: AwareDatetime
    technician_id: TechnicianIdField
    date_from: DayField
    date_to: DayField


class ReplayPublic(PublicModel):
    as_of: datetime
    events_replayed_through: int = Field(description="The log position the replay read up to")
    career: CareerSummaryPublic


class ReplayProgress(BaseModel):
    events_read: int = Field(description="Events of the log the replay has read so far")
    events_to_read: int | None = Field(
        description="The events stored up to `stop_position`; null until the cut is found")


class ReplayFailure(BaseModel):
    """Why a replay ended without an answer, as the problem a synchronous answer would be."""

    status: int = Field(examples=[404])
    field: str | None = Field(default=None, examples=["technician_id"])
    rule: str = Field(examples=["technician_id.exists"])
    detail: str


class ReplayJobPublic(PublicModel):
    """An as-of replay asked for: queued, running, done (with its answer) or failed (why)."""

    replay_id: str
    status_url: str = Field(description="Where this job's status is read (GET)")
    status: Literal["queued", "running", "done", "failed"]
    as_of: datetime
    technician_id: str
    date_from: date
    date_to: date
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    stop_position: int | None = Field(
        description="The log position the replay stops at: the last event recorded at or "
        "before `as_of`; null until found")
    progress: ReplayProgress
    kept_until: datetime | None = Field(
        description="Once the job has ended: when it is removed (then its URL answers 404)")
    result: ReplayPublic | None = Field(description="The answer, once done")
    failure: ReplayFailure | None = Field(description="Why it failed, once failed")


class ReplayJobList(ListPublic):
    items: list[ReplayJobPublic]
