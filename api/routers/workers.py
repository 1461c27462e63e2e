"""技能者: workers, their employers, Kentaikyo membership, qualifications and certificates.

Commands on an existing worker first check that the acting party may see the worker (the
worker, a business that employs or employed them, admin): anyone else gets the 404 of an
unregistered worker.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentActor, LedgerDep
from api.openapi import AUTHENTICATED, problems
from api.privacy import visible_worker
from api.schemas.common import BusinessIdPath, Receipt, TechnicianIdPath
from api.schemas.workers import (
    CareerCertificateCreate,
    EmploymentCreate,
    EmploymentEnd,
    ForemanTrainingCreate,
    KentaikyoMembershipCreate,
    QualificationCreate,
    SocialInsuranceCreate,
    WorkerCreate,
    WorkerPublic,
)
from ledger.actors import Role
from ledger.application import require_role

router = APIRouter(prefix="/workers", tags=["workers"], responses=AUTHENTICATED)
CHANGES = problems(404, 409)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(409))
def register_worker(body: WorkerCreate, actor: CurrentActor, ledger: LedgerDep) -> WorkerPublic:
    """Register a worker by CCUS technician ID (admin, employer)."""
    ledger.register_worker(body.technician_id, body.name, actor)
    return WorkerPublic(technician_id=body.technician_id, position=ledger.log_position())


@router.post("/{technician_id}/employments", status_code=status.HTTP_201_CREATED,
             responses=CHANGES)
def join_employer(
    technician_id: TechnicianIdPath, body: EmploymentCreate, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """所属事業者: the worker joins an employer (admin, or that employer)."""
    ledger.join_employer(technician_id, body.business_id, body.since, body.primary, actor)
    return Receipt(position=ledger.log_position())


@router.post("/{technician_id}/employments/{business_id}/end", responses=CHANGES)
def leave_employer(
    technician_id: TechnicianIdPath, business_id: BusinessIdPath, body: EmploymentEnd,
    actor: CurrentActor, ledger: LedgerDep,
) -> Receipt:
    """The worker leaves an employer, last day inclusive (admin, or that employer)."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER)
    visible_worker(ledger, actor, technician_id)
    ledger.leave_employer(technician_id, business_id, body.until, actor)
    return Receipt(position=ledger.log_position())


@router.post("/{technician_id}/kentaikyo", responses=CHANGES)
def enroll_in_kentaikyo(
    technician_id: TechnicianIdPath, body: KentaikyoMembershipCreate, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """被共済者: enroll the worker in Kentaikyo (admin, the worker's employer)."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER)
    visible_worker(ledger, actor, technician_id)
    ledger.enroll_worker_in_kentaikyo(technician_id, body.member_number, body.since, actor)
    return Receipt(position=ledger.log_position())


@router.post("/{technician_id}/qualifications", status_code=status.HTTP_201_CREATED,
             responses=CHANGES)
def add_qualification(
    technician_id: TechnicianIdPath, body: QualificationCreate, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """保有資格: record a qualification (admin, the worker's employer, the worker)."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER, Role.WORKER)
    visible_worker(ledger, actor, technician_id)
    ledger.add_qualification(technician_id, body.qualification, body.acquired_on, actor)
    return Receipt(position=ledger.log_position())


@router.post("/{technician_id}/foreman-training", responses=CHANGES)
def complete_foreman_training(
    technician_id: TechnicianIdPath, body: ForemanTrainingCreate, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """職長・安全衛生責任者教育: record the training (admin, the worker's employer)."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER)
    visible_worker(ledger, actor, technician_id)
    ledger.complete_foreman_training(technician_id, body.completed_on, actor)
    return Receipt(position=ledger.log_position())


@router.post("/{technician_id}/social-insurance", responses=CHANGES)
def confirm_social_insurance(
    technician_id: TechnicianIdPath, body: SocialInsuranceCreate, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """社会保険: confirm health, pension and employment insurance (admin, the employer)."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER)
    visible_worker(ledger, actor, technician_id)
    ledger.confirm_social_insurance(technician_id, body.health.value, body.pension.value,
                                    body.employment.value, body.as_of, actor)
    return Receipt(position=ledger.log_position())


@router.post("/{technician_id}/career-certificates", status_code=status.HTTP_201_CREATED,
             responses=CHANGES)
def certify_career(
    technician_id: TechnicianIdPath, body: CareerCertificateCreate, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """経歴証明: certify days before CCUS use, in the certifier's own name (admin, a business)."""
    ledger.certify_career(
        technician_id, body.certifier_business_id, body.relation.value, body.trade,
        body.period_start, body.period_end, body.work_days, body.foreman_days,
        body.team_leader_days, actor,
    )
    return Receipt(position=ledger.log_position())
