"""現場: sites, their subcontract structure (施工体制) and roster (作業員名簿).

Commands on an existing site first check that the acting party may see it (a business in its
structure, a worker on its roster, its own reader, admin): anyone else gets the 404 of an
unregistered site.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentActor, LedgerDep, ReadersDep
from api.openapi import AUTHENTICATED, problems
from api.schemas.common import Receipt, SiteIdPath, TechnicianIdPath
from api.schemas.sites import RosterEntrySet, SiteClose, SiteCreate, SitePublic, SubcontractCreate
from ledger.actors import Role
from ledger.application import require_role
from ledger.privacy import roster_worker, visible_site

router = APIRouter(prefix="/sites", tags=["sites"], responses=AUTHENTICATED)
CHANGES = problems(404, 409)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CHANGES)
def open_site(body: SiteCreate, actor: CurrentActor, ledger: LedgerDep) -> SitePublic:
    """Open a site under its prime contractor (admin, or the prime itself). A taken ID is told
    (409) only to a party related to that site; the same opening again is a retry (201)."""
    ledger.open_site(body.site_id, body.name, body.prime_business_id,
                     body.kentaikyo_method.value, body.opened_on, actor)
    return SitePublic(site_id=body.site_id, position=ledger.log_position())


@router.post("/{site_id}/subcontracts", status_code=status.HTTP_201_CREATED, responses=CHANGES)
def add_subcontract(
    site_id: SiteIdPath, body: SubcontractCreate, actor: CurrentActor, ledger: LedgerDep,
    readers: ReadersDep,
) -> Receipt:
    """Add a subcontractor under a business on the site (admin, the prime, the upper one)."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR, Role.EMPLOYER)
    visible_site(ledger, readers, actor, site_id)
    ledger.add_subcontract(site_id, body.business_id, body.parent_business_id, actor)
    return Receipt(position=ledger.log_position())


@router.put("/{site_id}/roster/{technician_id}", responses=CHANGES)
def set_roster_entry(
    site_id: SiteIdPath, technician_id: TechnicianIdPath, body: RosterEntrySet,
    actor: CurrentActor, ledger: LedgerDep, readers: ReadersDep,
) -> Receipt:
    """Put a worker on the roster (admin, the worker's employer or a business above it). The
    entry names an employer on the site that employs the worker; a worker it does not employ is
    answered as an unregistered one."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR, Role.EMPLOYER)
    site = visible_site(ledger, readers, actor, site_id)
    roster_worker(ledger, actor, site, technician_id, body.employer_business_id, body.since)
    ledger.set_roster_entry(site_id, technician_id, body.employer_business_id, body.trade,
                            body.position.value, body.since, actor)
    return Receipt(position=ledger.log_position())


@router.post("/{site_id}/close", responses=CHANGES)
def close_site(
    site_id: SiteIdPath, body: SiteClose, actor: CurrentActor, ledger: LedgerDep,
    readers: ReadersDep,
) -> Receipt:
    """閉所: close the site (admin, the prime)."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR)
    visible_site(ledger, readers, actor, site_id)
    ledger.close_site(site_id, body.closed_on, actor)
    return Receipt(position=ledger.log_position())
