"""技能者: workers, their employers, Kentaikyo membership, qualifications and certificates.

Commands on an existing worker first check that the acting party may see the worker (the
worker, a business that employs or employed them, admin): anyone else gets the 404 of an
unregistered worker. A business's claim on a worker — registering them, claiming to employ them,
a prime's or upper subcontractor's career certificate — is answered 201 alike whether or not the
worker is registered; it counts once the worker (or their employer's office, or admin) confirms
it. (201: what is created is the claim, stored for a registered worker only.)
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

from fastapi import APIRouter, status

from api.deps import CurrentActor, LedgerDep
from api.openapi import AUTHENTICATED, problems
from api.schemas.common import BusinessIdPath, Receipt, TechnicianIdPath
from api.schemas.workers import (
    CareerCertificateCreate,
    CareerCertificatePublic,
    EmploymentCreate,
    EmploymentEnd,
    ForemanTrainingCreate,
    KentaikyoMembershipCreate,
    QualificationCreate,
    SocialInsuranceCreate,
    WorkerCreate,
    WorkerPublic,
)
from ledger.actors import Actor, Role
from ledger.application import Ledger, require_role
from ledger.domain.worker import CertifierRelation
from ledger.errors import InvalidValue
from ledger.privacy import as_if_recorded, visible_worker

router = APIRouter(prefix="/workers", tags=["workers"], responses=AUTHENTICATED)
CHANGES = problems(404, 409)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(409))
def register_worker(
    body: WorkerCreate, actor: CurrentActor, ledger: LedgerDep
) -> WorkerPublic:
    """Register a worker by CCUS technician ID (admin). A business registers its own worker
    (代行申請): a new ID becomes its worker; a registered one gets an employment request, which
    counts once the worker confirms it. Both are answered alike."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER)
    if actor.role is Role.ADMIN and body.since is not None:
        raise InvalidValue("since", "since.admin",
                           "admin registers without an employment; a business gives since")
    ledger.register_worker(body.technician_id, body.name, actor, since=body.since)
    return WorkerPublic(technician_id=body.technician_id, position=ledger.log_position())


@router.post("/{technician_id}/employments", status_code=status.HTTP_201_CREATED,
             responses=CHANGES)
def join_employer(
    technician_id: TechnicianIdPath, body: EmploymentCreate, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """所属事業者: admin records an employment; a business claims its own, which counts once
    the worker confirms it — the same answer whether or not the worker exists."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER)
    if actor.role is Role.ADMIN:
        ledger.join_employer(technician_id, body.business_id, body.since, body.primary, actor)
        return Receipt(position=ledger.log_position())
    # the employer and its business are checked before the worker is looked at
    as_if_recorded(actor, lambda: ledger.join_employer(
        technician_id, body.business_id, body.since, body.primary, actor))
    return Receipt(position=ledger.log_position())


@router.post("/{technician_id}/employment-requests/{business_id}/confirm", responses=CHANGES)
def confirm_employment(
    technician_id: TechnicianIdPath, business_id: BusinessIdPath, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """The worker consents: the business becomes their employer (the worker, admin, or a
    business that employs the worker today, for a worker without a key of their own)."""
    require_role(actor, Role.ADMIN, Role.WORKER, Role.EMPLOYER)
    visible_worker(ledger, actor, technician_id)
    ledger.confirm_employment(technician_id, business_id, actor)
    return Receipt(position=ledger.log_position())


@router.post("/{technician_id}/employment-requests/{business_id}/decline", responses=CHANGES)
def decline_employment(
    technician_id: TechnicianIdPath, business_id: BusinessIdPath, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """The worker refuses a business's employment request (the same parties as confirm)."""
    require_role(actor, Role.ADMIN, Role.WORKER, Role.EMPLOYER)
    visible_worker(ledger, actor, technician_id)
    ledger.decline_employment(technician_id, business_id, actor)
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
    """被共済者: enroll the worker in Kentaikyo (admin, the worker, the worker's employer)."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER, Role.WORKER)
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
) -> CareerCertificatePublic:
    """経歴証明 in the certifier's own name: an employer's, for a period it employed the worker,
    counts now; a prime's or upper subcontractor's names its basis and counts once the worker
    confirms it (the same answer whether or not the worker exists)."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER, Role.PRIME_CONTRACTOR)
    if body.relation is CertifierRelation.EMPLOYER:
        if body.basis is not None:
            raise InvalidValue("basis", "basis.employer",
                               "an employer's certificate rests on its recorded employment")
        ledger.require_certifier(actor, body.certifier_business_id)  # whatever exists
        visible_worker(ledger, actor, technician_id)
        ledger.certify_career(technician_id, body.claim(), actor)
        return CareerCertificatePublic(status="counted", position=ledger.log_position())
    ledger.require_certifier(actor, body.certifier_business_id)  # before the form, as for any
    claim = body.claim()
    certificate_id = uuid4()
    as_if_recorded(actor, lambda: ledger.propose_career_certificate(
        technician_id, str(certificate_id), claim, body.basis or "", actor))
    return CareerCertificatePublic(status="pending_confirmation", certificate_id=certificate_id,
                                   position=ledger.log_position())


@router.post("/{technician_id}/career-certificates/{certificate_id}/confirm", responses=CHANGES)
def confirm_career_certificate(
    technician_id: TechnicianIdPath, certificate_id: UUID, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """The worker confirms a prime's or upper subcontractor's certificate: from now on it counts
    (the worker, admin, or a business that employs the worker today, not the certifier)."""
    return answer_certificate(Ledger.confirm_career_certificate, technician_id, certificate_id,
                              actor, ledger)


@router.post("/{technician_id}/career-certificates/{certificate_id}/decline", responses=CHANGES)
def decline_career_certificate(
    technician_id: TechnicianIdPath, certificate_id: UUID, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """The worker refuses a proposed certificate; it never counts (the same parties as confirm)."""
    return answer_certificate(Ledger.decline_career_certificate, technician_id, certificate_id,
                              actor, ledger)


def answer_certificate(
    answer: Callable[[Ledger, str, str, Actor], None], technician_id: str, certificate_id: UUID,
    actor: Actor, ledger: Ledger,
) -> Receipt:
    """Confirm and decline are asked by the same parties and answered alike."""
    require_role(actor, Role.ADMIN, Role.WORKER, Role.EMPLOYER)
    visible_worker(ledger, actor, technician_id)
    answer(ledger, technician_id, str(certificate_id), actor)
    return Receipt(position=ledger.log_position())
