"""Working time: what an employer reports, 36 agreements, a site's terms, and the reads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.query_params import MONTH_PATTERN, DayField
from api.schemas.common import BusinessIdField, CreateModel, Reason

Minutes = int  # whole minutes: 99.5 h is 5,970


class WorkingDayReport(CreateModel):
    """労働時間 of one worker-day as the employer reports it (minutes); a second report of the
    same day corrects the first and gives its `reason`."""

    work_date: DayField
    statutory_minutes: int = Field(ge=0, le=480, description="法定労働時間内 (≤ 8 h)")
    overtime_minutes: int = Field(ge=0, le=1440, description="時間外労働")
    holiday_minutes: int = Field(0, ge=0, le=1440, description="休日労働")
    employer_business_id: BusinessIdField | None = Field(
        None, description="Admin names the employer; an employer reports as itself")
    reason: Reason | None = None


class WorkingMonthReport(CreateModel):
    """A month's totals, for an employer that keeps no daily figures."""

    month: str = Field(pattern=MONTH_PATTERN, examples=["2025-06"])
    statutory_minutes: int = Field(ge=0, le=31 * 480)
    overtime_minutes: int = Field(ge=0, le=31 * 1440)
    holiday_minutes: int = Field(0, ge=0, le=31 * 1440)
    employer_business_id: BusinessIdField | None = None
    reason: Reason | None = None


class OvertimeAgreementCreate(CreateModel):
    """36協定: its first month and whether it has the special clause (特別条項)."""

    start_month: str = Field(pattern=MONTH_PATTERN, examples=["2025-04"])
    special_clause: bool
    reason: Reason | None = Field(None, description="Required to correct a recorded agreement")


class PeriodCreate(CreateModel):
    first_day: DayField
    last_day: DayField
    reason: Reason


class ExclusionCreate(PeriodCreate):
    kind: Literal["year_end", "summer", "off_site_fabrication", "other"]


class OrdererSet(CreateModel):
    orderer_business_id: BusinessIdField


class ShiftsSet(CreateModel):
    rotating_shifts: bool = Field(description="交替制: 週休2日 is each worker's days off")


# -- reads --------------------------------------------------------------------------------------


class SiteTimePublic(BaseModel):
    site_id: str
    employer_business_id: str | None
    first_entry: datetime | None
    last_exit: datetime | None
    minutes_on_site: int | None = Field(description="None: no exit, unknown (never guessed)")
    event_positions: list[int]


class TimeOnSiteDayPublic(BaseModel):
    technician_id: str
    work_date: date
    minutes_on_site: int | None = Field(
        description="Time on site (gate time, not working time), every site added; None if an "
                    "exit is missing")
    known_minutes: int
    sites: list[SiteTimePublic]


class TimeOnSiteList(BaseModel):
    technician_id: str
    label: str = "time_on_site"
    items: list[TimeOnSiteDayPublic]
    next_cursor: str | None
    projection_position: int


class MonitorMonthPublic(BaseModel):
    technician_id: str
    employer_business_id: str
    month: str
    estimated: bool = Field(description="No report: estimated from time on site less the break")
    unknown_exits: int
    statutory_minutes: int
    overtime_minutes: int
    holiday_minutes: int
    year_start: str
    year_overtime_minutes: int
    months_over_45h: int
    averages_minutes: dict[str, float] = Field(description="Window (2–6 months) → average")
    limits: dict[str, str] = Field(description="Limit → ok / at_risk / violated")
    lifted: list[str] = Field(description="Limits the disaster-work exception lifts this month")
    notice_owed: bool = Field(description="Over 80 h: the worker must be notified")
    agreement: dict[str, str | bool] | None
    event_positions: list[int]


class MonitorList(BaseModel):
    month: str
    as_of: date
    items: list[MonitorMonthPublic]
    next_cursor: str | None
    projection_position: int


class ClosureSpanPublic(BaseModel):
    first: date
    last: date
    days: int
    closed: int
    excluded: int
    rate: float | None
    meets_4w8: bool | None


class SiteDayPublic(BaseModel):
    work_date: date
    worker_days: int
    manual: int
    excluded: bool
    closed: bool


class WorkerDaysOffPublic(BaseModel):
    technician_id: str
    blocks: list[ClosureSpanPublic]


class SiteClosuresPublic(BaseModel):
    site_id: str
    rotating_shifts: bool
    whole: ClosureSpanPublic
    months: list[ClosureSpanPublic]
    meets_monthly: bool | None
    exclusions: list[dict[str, str]]
    days: list[SiteDayPublic]
    workers: list[WorkerDaysOffPublic]
    projection_position: int


class EmployerTotalsPublic(BaseModel):
    employer_business_id: str | None
    worker_days: int
    minutes_on_site: int
    unknown_exits: int


class SiteTimeTotals(BaseModel):
    site_id: str
    label: str = "time_on_site"
    items: list[EmployerTotalsPublic]
    projection_position: int


class LabourSummaryPublic(BaseModel):
    """A site's aggregates, with no worker in them (the orderer's view)."""

    site_id: str
    name: str
    kentaikyo_method: str
    records: int
    records_without_direct_input: int
    without_direct_input_share: float | None
    rotating_shifts: bool
    whole: ClosureSpanPublic
    months: list[ClosureSpanPublic]
    meets_monthly: bool | None
    days: list[SiteDayPublic]
    projection_position: int


class OrderedSitePublic(BaseModel):
    site_id: str
    name: str
    prime_business_id: str
    kentaikyo_method: str
    opened_on: date
    closed_on: date | None


class OrderedSiteList(BaseModel):
    orderer_business_id: str
    items: list[OrderedSitePublic]
    next_cursor: str | None
    projection_position: int
