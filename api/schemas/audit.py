"""The audit trail: stored events, and the ledger as it was at a past moment."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import AwareDatetime, Field

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
