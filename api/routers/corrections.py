"""訂正: corrections of a work record, requested by the worker or their employer, decided by
the prime.

A request names a worker the requester must be able to see; a decision names a request the
prime must be able to see (its own site); the site a request names must be one the requester
sees (or, for the worker, one their employer works on): otherwise the answer is the 404 of an
absent one.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from api.deps import CurrentActor, LedgerDep, ReadersDep
from api.openapi import AUTHENTICATED, problems
from api.schemas.requests import CorrectionCreate, Rejection, RequestPublic
from ledger.actors import Role
from ledger.application import require_role
from ledger.domain.requests import Correction, RequestStatus
from ledger.privacy import request_site, visible_request, visible_worker

router = APIRouter(prefix="/corrections", tags=["corrections"], responses=AUTHENTICATED)
CHANGES = problems(404, 409)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CHANGES)
def request_correction(
    body: CorrectionCreate, actor: CurrentActor, ledger: LedgerDep, readers: ReadersDep
) -> RequestPublic:
    """Request a correction of trade, position, work content or times (the worker, employer)."""
    require_role(actor, Role.WORKER, Role.EMPLOYER)
    visible_worker(ledger, actor, body.technician_id)
    request_site(ledger, readers, actor, body.site_id, body.employer_business_id)
    request_id = ledger.request_correction(
        body.technician_id, body.site_id, body.work_date, body.employer_business_id,
        body.changes.model_dump(exclude_none=True), body.reason, actor,
    )
    return RequestPublic(request_id=request_id, kind="correction",
                         status=RequestStatus.PENDING, position=ledger.log_position())


@router.post("/{request_id}/approve", responses=CHANGES)
def approve_correction(request_id: UUID, actor: CurrentActor, ledger: LedgerDep) -> RequestPublic:
    """承認: the site's prime approves; the corrected version counts from now on."""
    require_role(actor, Role.PRIME_CONTRACTOR, Role.SITE_MANAGER)  # a granted one
    visible_request(ledger, actor, request_id, Correction)
    ledger.approve(request_id, actor)
    return RequestPublic(request_id=request_id, kind="correction",
                         status=RequestStatus.APPROVED, position=ledger.log_position())


@router.post("/{request_id}/reject", responses=CHANGES)
def reject_correction(
    request_id: UUID, body: Rejection, actor: CurrentActor, ledger: LedgerDep
) -> RequestPublic:
    """否認: the site's prime rejects, giving the reason."""
    require_role(actor, Role.PRIME_CONTRACTOR, Role.SITE_MANAGER)  # a granted one
    visible_request(ledger, actor, request_id, Correction)
    ledger.reject(request_id, body.reason, actor)
    return RequestPublic(request_id=request_id, kind="correction",
                         status=RequestStatus.REJECTED, position=ledger.log_position())
