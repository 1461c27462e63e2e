"""技能者: workers and what they hold."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field

from api.schemas.common import BusinessIdField, CreateModel, Receipt, TechnicianIdField
from ledger.domain.worker import CertificateClaim, CertifierRelation, InsuranceStatus


class WorkerCreate(CreateModel):
    technician_id: TechnicianIdField
    name: str = Field(min_length=1, max_length=200, examples=["山田 太郎"])
    since: date | None = Field(
        default=None,
        description="A business registering its own worker (代行申請): employed from this date "
        "(default today). Admin registrations record no employment.",
    )


class WorkerPublic(Receipt):
    technician_id: str


class EmploymentCreate(CreateModel):
    """所属事業者: the worker joins an employer from a date."""

    business_id: BusinessIdField
    since: date
    primary: bool = Field(default=False, description="主たる所属事業者")


class EmploymentEnd(CreateModel):
    until: date = Field(description="Last day of the employment (inclusive)")


class KentaikyoMembershipCreate(CreateModel):
    """被共済者: enrolled from a date; only days from then on earn points."""

    member_number: str = Field(pattern=r"^[0-9]+$", max_length=40)
    since: date


class QualificationCreate(CreateModel):
    qualification: str = Field(min_length=1, max_length=80, examples=["玉掛技能講習"])
    acquired_on: date


class ForemanTrainingCreate(CreateModel):
    """職長・安全衛生責任者教育."""

    completed_on: date


class SocialInsuranceCreate(CreateModel):
    health: InsuranceStatus
    pension: InsuranceStatus
    employment: InsuranceStatus
    as_of: date


class CareerCertificateCreate(CreateModel):
    """経歴証明: certified work days before CCUS use (the period ends by 2024-03-31)."""

    certifier_business_id: BusinessIdField
    relation: CertifierRelation
    trade: str = Field(min_length=1, max_length=40, examples=["鉄筋"])
    period_start: date
    period_end: date
    work_days: int = Field(ge=0)
    foreman_days: int = Field(default=0, ge=0)
    team_leader_days: int = Field(default=0, ge=0)
    basis: str | None = Field(
        default=None, min_length=1, max_length=500,
        examples=["施工体制台帳 (2016, 〇〇ビル新築工事)"],
        description="What a prime's or upper subcontractor's certificate rests on (required "
        "for those, refused for an employer's, which rests on its recorded employment)",
    )

    def claim(self) -> CertificateClaim:
        """The certificate as the ledger takes it (its form checked again there, by field)."""
        return CertificateClaim(
            self.certifier_business_id, self.relation, self.trade, self.period_start,
            self.period_end, self.work_days, self.foreman_days, self.team_leader_days,
        )


class CareerCertificatePublic(Receipt):
    """`counted`: an employer's certificate counts now. `pending_confirmation`: a prime's or upper
    subcontractor's counts once the worker confirms `certificate_id` — answered the same whether
    or not the worker is registered, so a proposal cannot tell who is."""

    status: Literal["counted", "pending_confirmation"]
    certificate_id: UUID | None = None
