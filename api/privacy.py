"""Who may see what (DESIGN §2 Privacy), checked before a command runs.

Everything is undisclosed by default. A command that names something the actor may not see is
answered exactly as if it were absent (`hidden`: the ledger's own 404), so a refusal never tells
whether a worker, site or record exists. Roles that may never run a command are refused first
(403, whatever exists); parties that may see the thing but not change it get the ledger's 403.

Claims on a worker the claimant may not see (an employment, a prime's career certificate) are
answered the same whether the worker is registered or not (`as_if_recorded`): the claim is stored
only for a registered worker, and counts once the worker confirms it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar
from uuid import UUID

from api.problems import hidden
from api.reader_directory import ReaderDirectory
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.domain.registry import Reader
from ledger.domain.requests import Correction, ManualEntry
from ledger.domain.site import Site
from ledger.domain.worker import Worker
from ledger.errors import NotPermitted, UnknownReference

SEES_EVERYTHING = (Role.ADMIN, Role.AUDITOR)
BUSINESS_ROLES = (Role.PRIME_CONTRACTOR, Role.EMPLOYER)
R = TypeVar("R", ManualEntry, Correction)


def worker_visible(actor: Actor, worker: Worker) -> bool:
    """The worker, and any business that employs or employed them; not a site's prime, which
    sees roster information but not registration details."""
    if actor.role in SEES_EVERYTHING:
        return True
    if actor.role is Role.WORKER:
        return actor.id == worker.technician_id
    if actor.role in BUSINESS_ROLES:
        return any(e.business_id == actor.id for e in worker.employments)
    return False


def site_visible(actor: Actor, site: Site, readers: ReaderDirectory) -> bool:
    """The businesses in the site's structure, the workers on its roster, its own readers."""
    if actor.role in SEES_EVERYTHING:
        return True
    if actor.role in BUSINESS_ROLES:
        return actor.id in site.subcontracts
    if actor.role is Role.WORKER:
        return actor.id in site.roster
    if actor.role is Role.READER:
        return readers.site_of(actor.id) == site.site_id
    if actor.role is Role.SITE_MANAGER:
        return actor.id == site.prime_business_id and actor.scope.covers_site(site.site_id)
    return False


def request_visible(actor: Actor, request: ManualEntry | Correction, site: Site) -> bool:
    """The worker, their employer, the businesses above the employer on the site (up to the
    prime)."""
    if actor.role in SEES_EVERYTHING:
        return True
    if actor.role is Role.WORKER:
        return actor.id == request.technician_id
    if actor.role in BUSINESS_ROLES:
        employer = request.employer_business_id
        return actor.id in (employer, request.prime_business_id,
                            *site.upper_businesses_of(employer))
    if actor.role is Role.SITE_MANAGER:
        return actor.id == request.prime_business_id and actor.scope.covers_site(site.site_id)
    return False


def visible_worker(ledger: Ledger, actor: Actor, technician_id: str) -> Worker:
    worker = ledger.worker(technician_id)
    if not worker_visible(actor, worker):
        raise hidden("technician_id", worker.technician_id)
    return worker


def visible_site(ledger: Ledger, readers: ReaderDirectory, actor: Actor, site_id: str) -> Site:
    site = ledger.site(site_id)
    if not site_visible(actor, site, readers):
        raise hidden("site_id", site.site_id)
    return site


def visible_reader(
    ledger: Ledger, readers: ReaderDirectory, actor: Actor, reader_id: str
) -> Reader:
    reader = ledger.reader(reader_id)
    if actor.role is Role.READER and actor.id == reader.reader_id:
        return reader
    if not site_visible(actor, ledger.site(reader.site_id), readers):
        raise hidden("reader_id", reader.reader_id)
    return reader


def visible_request(
    ledger: Ledger, actor: Actor, request_id: UUID, kind: type[R]
) -> R:
    """A manual entry or a correction; one of the other kind is absent here."""
    request = ledger.request(request_id)
    if not isinstance(request, kind) or not request_visible(
        actor, request, ledger.site(request.site_id)
    ):
        raise hidden("request_id", request_id)
    return request


def request_site(
    ledger: Ledger, readers: ReaderDirectory, actor: Actor, site_id: str, employer: str
) -> Site:
    """The site a manual entry or correction names: one the requester may see, or — for the
    worker, who need not be on its roster yet — one their named employer works on. Any other is
    answered as absent, so a request cannot tell whether someone else's site exists."""
    site = ledger.site(site_id)
    if site_visible(actor, site, readers):
        return site
    if actor.role is Role.WORKER and employer in site.subcontracts:
        return site
    raise hidden("site_id", site.site_id)


def roster_worker(
    ledger: Ledger, actor: Actor, site: Site, technician_id: str, employer: str, since: date
) -> None:
    """A roster entry names a worker employed by the named employer. The prime and the upper
    subcontractors may not see the worker's registration, so a worker that employer does not
    employ is answered as absent; who may edit that employer's roster is told first (403), as it
    depends only on the site's structure, which they see."""
    if actor.role in SEES_EVERYTHING:
        return
    if employer in site.subcontracts and actor.id not in (
        employer, *site.upper_businesses_of(employer)
    ):
        raise NotPermitted("actor", "roster.actor", "may not edit this business's roster")
    worker = ledger.worker(technician_id)
    if not worker.employs(employer, since):
        raise hidden("technician_id", worker.technician_id)


def as_if_recorded(actor: Actor, claim: Callable[[], object]) -> None:
    """Run a claim on a worker; to a party that may not see everything, an unregistered worker
    is answered like a registered one (admin is told)."""
    try:
        claim()
    except UnknownReference as error:
        if error.field != "technician_id" or actor.role in SEES_EVERYTHING:
            raise
