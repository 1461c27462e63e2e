"""入場時の確認 and 建退共の口座: what a client sends and what it reads."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from api.query_params import MONTH_PATTERN
from api.schemas.common import CreateModel, ReaderIdField, SiteIdField, TechnicianIdField
from api.schemas.lists import Freshness, ListPublic, PublicModel
from ledger.domain.worker import InsuranceStatus

Qualification = Field(min_length=1, max_length=80, examples=["玉掛技能講習"])
Points = Field(gt=0, le=10**12, description="退職金ポイント (1 point = 1 yen)")


class InsuranceRecordCreate(CreateModel):
    """社会保険加入状況 as confirmed on `as_of`; an exempt scheme names its reason."""

    health: InsuranceStatus
    pension: InsuranceStatus
    employment: InsuranceStatus
    as_of: date
    exempt_reasons: dict[str, str] = Field(
        default_factory=dict, description="scheme (health, pension, employment) → 適用除外の理由")


class QualificationExpiryCreate(CreateModel):
    qualification: str = Qualification
    expires_on: date


class RequirementCreate(CreateModel):
    """A qualification the site requires of a trade ("" for every trade on the site), in a
    work area ("" for the whole site)."""

    qualification: str = Qualification
    trade: str = Field(default="", max_length=40, examples=["鉄筋"])
    work_area: str = Field(default="", max_length=80, examples=["鉄骨建方エリア"])


class WorkAreaSet(CreateModel):
    """作業区域: the gate of a reader of the site leads into `work_area` ("": the site)."""

    reader_id: ReaderIdField
    work_area: str = Field(max_length=80, examples=["鉄骨建方エリア"])


class PurchaseCreate(CreateModel):
    purchase_id: str = Field(min_length=1, max_length=80, examples=["2025-10-購入-1"])
    purchased_on: date
    points: int = Points
    ccus_linked: bool = Field(default=False, description="CCUS-linked works (rebate rate)")


class ReportedDayCreate(CreateModel):
    technician_id: TechnicianIdField
    site_id: SiteIdField
    work_date: date


class UseCreate(CreateModel):
    """An applied work report: the points it uses and the worker-days it pays for."""

    reference: str = Field(min_length=1, max_length=80, examples=["2025-06"])
    used_on: date
    points: int = Points
    days: list[ReportedDayCreate] = Field(default_factory=list, max_length=100_000)


class WagePaymentCreate(CreateModel):
    month: str = Field(pattern=MONTH_PATTERN, examples=["2025-12"])
    paid_on: date


class RebateCredit(CreateModel):
    credited_on: date


class RebatesCredited(BaseModel):
    position: int
    credited: int = Field(description="Rebates credited by this call")


class AccountMonthPublic(PublicModel):
    month: str
    opening: int
    purchased: int
    credited: int
    used: int
    closing: int


class ReportDeadlinePublic(PublicModel):
    month: str
    wage_paid_on: date
    stated: bool = Field(description="False: the end of the work month, by default")
    due_on: date
    applied: bool


class AccountPublic(Freshness):
    """A contracting employer's points per month, and its reports' due dates."""

    business_id: str
    months: list[AccountMonthPublic]
    deadlines: list[ReportDeadlinePublic]
    reminders: list[ReportDeadlinePublic] = Field(
        description="Reports not applied yet, due within `remind_days` of today")


class ContributionPublic(PublicModel):
    payer_business_id: str
    site_id: str
    position: int


class CoveredRecordPublic(PublicModel):
    site_id: str
    employer_business_id: str | None
    event_positions: list[int]


class CoverageDayPublic(PublicModel):
    technician_id: str
    work_date: date
    coverage: str
    reasons: list[str]
    records: list[CoveredRecordPublic]
    paid: int
    contributions: list[ContributionPublic]


class CoverageList(ListPublic):
    """掛金充当の突合: each worker-day of the month on the site, as the caller may see it."""

    site_id: str
    month: str
    counts: dict[str, int]
    items: list[CoverageDayPublic]


class ExpiryAlertPublic(PublicModel):
    technician_id: str
    qualification: str
    expires_on: date
    days_left: int
    required: bool


class ExpiryAlertList(ListPublic):
    within_days: int
    items: list[ExpiryAlertPublic]


class RosterLinePublic(PublicModel):
    technician_id: str
    employer_business_id: str
    trade: str
    position: str
    since: date
    health: str
    pension: str
    employment: str
    insurance_as_of: date | None
    last_tap_at: datetime | None
    entry_flags: list[str] = Field(description="The entry checks' flags of the latest tap")


class RosterList(ListPublic):
    """作業員名簿 as the gate sees it (a subcontractor: its tiers' workers)."""

    site_id: str
    items: list[RosterLinePublic]
