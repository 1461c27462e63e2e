"""直接入力: manual entries, requested by the worker or their employer, decided by the prime.

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
from api.schemas.requests import ManualEntryCreate, Rejection, RequestPublic
from ledger.actors import Role
from ledger.application import require_role
from ledger.domain.requests import ManualEntry, RequestStatus
from ledger.privacy import request_site, visible_request, visible_worker

router = APIRouter(prefix="/manual-entries", tags=["manual entries"], responses=AUTHENTICATED)
CHANGES = problems(404, 409)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CHANGES)
def request_manual_entry(
    body: ManualEntryCreate, actor: CurrentActor, ledger: LedgerDep, readers: ReadersDep
) -> RequestPublic:
    """Request a manual entry for the prime's approval (the worker, their employer)."""
    require_role(actor, Role.WORKER, Role.EMPLOYER)
    visible_worker(ledger, actor, body.technician_id)
    request_site(ledger, readers, actor, body.site_id, body.employer_business_id)
    request_id = ledger.request_manual_entry(
        body.technician_id, body.site_id, body.work_date, body.employer_business_id, body.trade,
        body.position.value, body.work_content, actor, entry_at=body.entry_at,
        exit_at=body.exit_at, note=body.note,
    )
    return RequestPublic(request_id=request_id, kind="manual_entry",
                         status=RequestStatus.PENDING, position=ledger.log_position())


@router.post("/{request_id}/approve", responses=CHANGES)
def approve_manual_entry(request_id: UUID, actor: CurrentActor, ledger: LedgerDep) -> RequestPublic:
    """承認: the site's prime approves; the entry becomes an official record."""
    require_role(actor, Role.PRIME_CONTRACTOR, Role.SITE_MANAGER)  # a granted one
    visible_request(ledger, actor, request_id, ManualEntry)
    ledger.approve(request_id, actor)
    return RequestPublic(request_id=request_id, kind="manual_entry",
                         status=RequestStatus.APPROVED, position=ledger.log_position())


@router.post("/{request_id}/reject", responses=CHANGES)
def reject_manual_entry(
    request_id: UUID, body: Rejection, actor: CurrentActor, ledger: LedgerDep
) -> RequestPublic:
    """否認: the site's prime rejects, giving the reason."""
    require_role(actor, Role.PRIME_CONTRACTOR, Role.SITE_MANAGER)  # a granted one
    visible_request(ledger, actor, request_id, ManualEntry)
    ledger.reject(request_id, body.reason, actor)
    return RequestPublic(request_id=request_id, kind="manual_entry",
                         status=RequestStatus.REJECTED, position=ledger.log_position())
