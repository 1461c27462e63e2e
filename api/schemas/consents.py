"""Claims that wait for a worker's consent: employment requests and proposed career
certificates, with what became of them."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from api.schemas.lists import ListPublic, PublicModel
from projections.queries.consents import ConsentStatus


class EmploymentRequestPublic(PublicModel):
    """A business's claim to employ the worker (所属事業者の関連付け)."""

    technician_id: str
    business_id: str = Field(description="The business that claims to employ the worker")
    since: date
    primary: bool
    status: ConsentStatus
    requested_position: int = Field(description="Log position of the request")
    decided_position: int | None = Field(description="Log position of the worker's answer")


class EmploymentRequestList(ListPublic):
    items: list[EmploymentRequestPublic]


class CertificateProposalPublic(PublicModel):
    """A career certificate (経歴証明) by a prime or upper subcontractor, counting once the
    worker confirms it."""

    certificate_id: str
    technician_id: str
    certifier_business_id: str
    relation: str
    trade: str
    period_start: date
    period_end: date
    work_days: int
    foreman_days: int
    team_leader_days: int
    basis: str = Field(description="What the certificate rests on (e.g. the 施工体制台帳)")
    status: ConsentStatus
    proposed_position: int
    decided_position: int | None


class CertificateProposalList(ListPublic):
    items: list[CertificateProposalPublic]
