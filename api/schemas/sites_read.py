"""出面, exceptions, the prime's inbox and a site's Kentaikyo month."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from api.schemas.careers import KentaikyoLinePublic
from api.schemas.lists import ListPublic, PublicModel
from projections.records import RecordSource, RecordStatus


class ExitResolutionPublic(PublicModel):
    """A missing exit resolved by the site's staff: stated by them, never a tap."""

    exit_at: datetime | None = Field(description="as the staff stated it; null: time unknown")
    time_unknown: bool
    reason: str
    resolved_by: str = Field(description="who decided, role:id")
    resolved_at: datetime
    position: int = Field(description="log position of the decision")


class AttendancePublic(PublicModel):
    """One worker on one site on one work date, with their employer's tier (0: the prime)."""

    technician_id: str
    worker_name: str | None
    site_id: str
    work_date: date
    employer_business_id: str | None
    employer_name: str | None
    tier: int | None
    parent_business_id: str | None
    trade: str | None
    position: str | None
    first_entry: datetime | None
    last_exit: datetime | None
    minutes_on_site: int | None
    status: RecordStatus
    source: RecordSource
    flags: list[str]
    event_positions: list[int]
    exit_resolution: ExitResolutionPublic | None = Field(
        default=None, description="missing exits: the site staff's decision, if resolved")


class AttendanceList(ListPublic):
    site_id: str
    headcount: int = Field(description="Rows in the whole list (every page)")
    items: list[AttendancePublic]


class TapExceptionPublic(PublicModel):
    tap_id: str
    site_id: str | None
    reader_id: str
    kinds: list[str] = Field(description="unknown_card, revoked_card, unregistered_reader, "
                             "clock_skew, conflict: the flags the tap's upload was answered with")
    technician_id: str | None
    card_id: str | None
    reader_time: datetime
    position: int
    content_hash: str = Field(description="SHA-256 of this version's content (reader, card or "
                              "technician, direction, reader time in UTC)")
    stored_content_hash: str | None = Field(
        default=None, description="conflict: the content hash of the version stored first")
    resolution: dict[str, Any] | None = Field(
        default=None, description="the staff's decision that resolved it (kind card_assigned: "
        "technician_id, reason, position); null while open")
    resolved_by: str | None = Field(default=None, description="who decided, role:id")
    resolved_at: datetime | None = None


class DayCloseFindingPublic(PublicModel):
    """What a day close (02:00) listed for a site-day."""

    work_date: date
    kind: str = Field(description="missing_exit, unknown_card or silent_reader")
    subject: str = Field(description="technician ID, tap ID or reader ID")
    detail: dict[str, Any]
    position: int = Field(description="log position of the day-closed event")


class TapExceptionList(ListPublic):
    items: list[TapExceptionPublic]
    day_close_findings: list[DayCloseFindingPublic] = Field(
        default_factory=list,
        description="the day closes' findings for the date range; on the first page only")


class UnregisteredReaderPublic(PublicModel):
    reader_id: str
    first_tap_at: datetime
    last_tap_at: datetime
    taps: list[TapExceptionPublic]


class UnregisteredReaderList(ListPublic):
    items: list[UnregisteredReaderPublic]


class PendingRequestPublic(PublicModel):
    """A manual entry (直接入力) or correction (訂正) awaiting the prime's decision."""

    request_id: str
    kind: str
    technician_id: str
    site_id: str
    work_date: date
    employer_business_id: str
    requested_by: str
    requested_at: datetime
    deadline: datetime = Field(description="The first instant (JST) after the last day to decide")
    trade: str | None
    position: str | None
    work_content: str | None
    entry_at: datetime | None
    exit_at: datetime | None
    note: str | None
    changes: dict[str, Any]
    reason: str | None
    event_positions: list[int]


class InboxList(ListPublic):
    business_id: str
    items: list[PendingRequestPublic]


class EmployerTotal(PublicModel):
    employer_business_id: str | None
    eligible_days: int
    points_yen: int


class SiteKentaikyoList(ListPublic):
    """A site's month (元請一括): every visible line, its subcontractors' workers included."""

    site_id: str
    prime_business_id: str
    month: str
    due_on: date
    eligible_days: int
    points_yen: int
    by_employer: list[EmployerTotal]
    items: list[KentaikyoLinePublic]
