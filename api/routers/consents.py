"""What waits for a worker's consent, read from both sides (Issue 13).

- For the worker: `/workers/{id}/employment-requests` and `/career-certificate-proposals` list
  the claims on them and what became of each (`status` filters; `pending`: what awaits an
  answer). They are read by those who may answer (`Ledger._require_consent`): the worker, a
  business that employs the worker today (how a worker without a key confirms: through their
  employer's office), and auditors and admins (the registration office).
- For the claimant: `/businesses/{id}/employment-requests` and `/career-certificate-proposals`
  list the business's own claims **once the worker has answered them**. A pending claim is not
  listed to the claimant: a claim on an unregistered worker is answered like one on a registered
  worker and stores nothing, so listing pending claims would tell which IDs are registered. The
  answer is the worker's, addressed to the claimant; nothing else of the worker is shown (no
  name, no employments). Auditors and admins read every claim of a business, pending included.

Anything the reader may not see is answered as absent (404), as every read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AUDITORS, reads_as
from api.openapi import AUTHENTICATED, problems
from api.paging import Page, PageDep, number
from api.reading import Reading, Reads
from api.schemas.common import BusinessIdPath, TechnicianIdPath
from api.schemas.consents import (
    CertificateProposalList,
    CertificateProposalPublic,
    EmploymentRequestList,
    EmploymentRequestPublic,
)
from ledger import clock
from ledger.actors import Actor, Role
from ledger.privacy import hidden
from projections.queries.consents import (
    ANSWERED,
    CertificateProposal,
    ConsentStatus,
    EmploymentRequest,
    certificate_proposals,
    employment_requests,
)
from projections.store import Tx

router = APIRouter(tags=["consents"], responses=AUTHENTICATED)
READS = problems(404)

# The worker's side: the parties who may answer a claim (a key scoped to sites reads no worker's
# registration). The claimant's side: the business itself.
ConsentReads = Annotated[Reads, reads_as(Role.WORKER, Role.EMPLOYER, *AUDITORS,
                                         whole_careers=True)]
ClaimantReads = Annotated[Reads, reads_as(Role.PRIME_CONTRACTOR, Role.EMPLOYER, *AUDITORS)]
StatusFilter = Annotated[ConsentStatus | None, Query(
    description="Only claims in this state (`pending`: awaiting the worker's answer)")]


def answering_for(tx: Tx, actor: Actor, technician_id: str) -> None:
    """The actor may answer claims on the worker (and so read them); otherwise 404, as for an
    unregistered worker."""
    if actor.scope.covers_worker(technician_id):
        if actor.role in AUDITORS or (actor.role is Role.WORKER and actor.id == technician_id):
            if tx.execute("SELECT 1 FROM {workers} WHERE technician_id = %s", [technician_id]):
                return
        elif actor.role is Role.EMPLOYER:
            today = clock.work_date_of(clock.now()).isoformat()
            if tx.execute(
                "SELECT 1 FROM {worker_employments} WHERE technician_id = %s "
                "AND business_id = %s AND since <= %s AND (until IS NULL OR until >= %s)",
                [technician_id, actor.id, today, today],
            ):
                return
    raise hidden("technician_id", technician_id)


def claimant(tx: Tx, actor: Actor, business_id: str) -> frozenset[ConsentStatus]:
    """The statuses of the business's claims the actor reads; 404 for another business."""
    if actor.role in AUDITORS:
        if tx.execute("SELECT 1 FROM {businesses} WHERE business_id = %s", [business_id]):
            return frozenset(ConsentStatus)
    elif actor.id == business_id:
        return ANSWERED
    raise hidden("business_id", business_id)


def chosen(statuses: frozenset[ConsentStatus], status: ConsentStatus | None
           ) -> frozenset[ConsentStatus]:
    return statuses if status is None else statuses & {status}


def requests_page(page: Page, read: Reading,
                  found: Sequence[EmploymentRequest]) -> EmploymentRequestList:
    """One page of employment claims, in the order they were made (either side's list), from
    the page's rows read in SQL (`Page.keyset`)."""
    items, next_cursor = page.answer(found, lambda r: (r.requested_position,))
    return EmploymentRequestList(
        items=[EmploymentRequestPublic.model_validate(r) for r in items],
        next_cursor=next_cursor, projection_position=read.position)


def proposals_page(page: Page, read: Reading,
                   found: Sequence[CertificateProposal]) -> CertificateProposalList:
    """One page of proposed certificates, in the order they were proposed (either side's list),
    from the page's rows read in SQL (`Page.keyset`)."""
    items, next_cursor = page.answer(found, lambda r: (r.proposed_position,))
    return CertificateProposalList(
        items=[CertificateProposalPublic.model_validate(r) for r in items],
        next_cursor=next_cursor, projection_position=read.position)


@router.get("/workers/{technician_id}/employment-requests", responses=READS)
async def list_worker_employment_requests(
    technician_id: TechnicianIdPath, reads: ConsentReads, paging: PageDep,
    status: StatusFilter = None,
) -> EmploymentRequestList:
    """Businesses' claims to employ the worker (the worker, their employer today; auditors,
    admins), in the order they were made."""

    def listed(read: Reading) -> EmploymentRequestList:
        page = paging.page()
        answering_for(read.tx, read.actor, technician_id)
        found = employment_requests(read.tx, technician_id=technician_id,
                                    statuses=chosen(frozenset(ConsentStatus), status),
                                    page=page.keyset(number))
        return requests_page(page, read, found)

    return await reads.run(listed)


@router.get("/workers/{technician_id}/career-certificate-proposals", responses=READS)
async def list_worker_certificate_proposals(
    technician_id: TechnicianIdPath, reads: ConsentReads, paging: PageDep,
    status: StatusFilter = None,
) -> CertificateProposalList:
    """Career certificates proposed for the worker by a prime or upper subcontractor (the
    worker, their employer today; auditors, admins), in the order they were proposed."""

    def listed(read: Reading) -> CertificateProposalList:
        page = paging.page()
        answering_for(read.tx, read.actor, technician_id)
        found = certificate_proposals(read.tx, technician_id=technician_id,
                                      statuses=chosen(frozenset(ConsentStatus), status),
                                      page=page.keyset(number))
        return proposals_page(page, read, found)

    return await reads.run(listed)


@router.get("/businesses/{business_id}/employment-requests", responses=READS)
async def list_business_employment_requests(
    business_id: BusinessIdPath, reads: ClaimantReads, paging: PageDep,
    status: StatusFilter = None,
) -> EmploymentRequestList:
    """The business's own claims to employ workers, once each worker answered (the business;
    auditors and admins read pending ones too)."""

    def listed(read: Reading) -> EmploymentRequestList:
        page = paging.page()
        statuses = chosen(claimant(read.tx, read.actor, business_id), status)
        found = employment_requests(read.tx, business_id=business_id, statuses=statuses,
                                    page=page.keyset(number), workers=read.actor.scope.workers)
        return requests_page(page, read, found)

    return await reads.run(listed)


@router.get("/businesses/{business_id}/career-certificate-proposals", responses=READS)
async def list_business_certificate_proposals(
    business_id: BusinessIdPath, reads: ClaimantReads, paging: PageDep,
    status: StatusFilter = None,
) -> CertificateProposalList:
    """The business's own proposed certificates, once each worker answered (the business;
    auditors and admins read pending ones too)."""

    def listed(read: Reading) -> CertificateProposalList:
        page = paging.page()
        statuses = chosen(claimant(read.tx, read.actor, business_id), status)
        found = certificate_proposals(read.tx, certifier_business_id=business_id,
                                      statuses=statuses, page=page.keyset(number),
                                      workers=read.actor.scope.workers)
        return proposals_page(page, read, found)

    return await reads.run(listed)
