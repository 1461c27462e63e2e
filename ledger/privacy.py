"""Who may see what (DESIGN §2 Privacy): the one place of the rules, for writes (on aggregates,
before a command runs) and for reads (on the read models' facts, before a query runs).

Everything is undisclosed by default. Whatever a party may not see is answered exactly as if it
were absent (`hidden`: the ledger's own "not registered"), so a refusal never tells whether a
worker, site or record exists. Roles that may never do a thing are refused first (403, whatever
exists); parties that may see a thing but not change it get the ledger's 403.

Writes:
- A worker is seen by the worker and any business that employs or employed them; not by a site's
  prime, which sees roster information but not registration details.
- A site is seen by the businesses in its structure, the workers on its roster, its own readers,
  and its prime's site managers of that site.
- A manual entry or correction is seen by the worker, their employer and the businesses above the
  employer on the site (up to the prime).
- Claims on a worker the claimant may not see (an employment, a prime's career certificate) are
  answered the same whether the worker is registered or not (`as_if_recorded`): the claim is
  stored only for a registered worker, and counts once the worker confirms it.
- A key with a scope (管理者, 現場管理者) writes only within it (`check_key_scope`); a site
  manager writes only its sites' upkeep, and decisions where granted (`check_site_manager_write`).

Reads:
- A worker reads their own records only.
- An employer (所属事業者) reads its workers' records whose employer it is (`only_employer`).
- A prime contractor (元請) reads a worker's records on its own sites **while the site is active
  with the worker on its roster** (DESIGN §2 "Privacy while active"; `only_sites`): a site is
  active until its closing date has passed (JST). From then on its per-worker records are the
  worker's and the employer's again; what stays with the prime is the site-level figures (the
  site's settlement by employer) and the decisions still pending on its sites (its inbox, until
  decided or expired). Never the worker's records at other companies' sites, never registration
  details.
- On a site, the prime (and its site managers of that site) reads every row while the site is
  active; a subcontractor reads its own workers and those of the businesses below it in the
  site's structure (施工体制), never those above or beside it. Once the site is closed, each
  business reads its own workers' rows; the prime keeps the site's settlement totals by employer
  (`SiteScope.figures`).
- A key with a scope reads only within it: a key scoped to sites reads those sites, and a
  worker's records on them; a key scoped to workers reads those workers.
- Working time (勤怠): a worker reads their own (every employer's); an employer its workers'
  (`employer_scope`); on a site, the prime reads time on site of other employers' workers only
  as totals by employer (`projections.queries.working_time.site_time_totals`).
- An orderer (発注者) reads only aggregates of the sites whose terms name it as their orderer
  (`summary_scope`: closure rates, worker-days per day, the share of records made without the
  card, the Kentaikyo method) and never personal data: every worker's and site's per-worker
  read refuses its role (403), and its own reads name no worker.
- An auditor or an admin reads everything (and every such read is logged:
  `ledger.storage.audit_reads`).

The facts a read rule needs come from the read models (`projections.queries.scopes` asks them);
those of a write rule from the aggregates.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Protocol, TypeVar
from uuid import UUID

from ledger import clock
from ledger.actors import Actor, Role, Scope
from ledger.domain.registry import Reader
from ledger.domain.requests import ApprovableRequest, Correction, ManualEntry
from ledger.domain.site import Site
from ledger.domain.worker import Worker
from ledger.errors import NotPermitted, UnknownReference

SEES_EVERYTHING = (Role.AUDITOR, Role.ADMIN)  # and every read of theirs is logged
BUSINESS_ROLES = (Role.PRIME_CONTRACTOR, Role.EMPLOYER)
R = TypeVar("R", ManualEntry, Correction)


def hidden(field: str, value: object) -> UnknownReference:
    """What the ledger says of something absent, for something the actor may not see."""
    return UnknownReference(field, f"{field}.exists", f"{value} is not registered")


class Aggregates(Protocol):
    """What the write rules load: the `Ledger`'s own queries."""

    def worker(self, technician_id: str) -> Worker: ...

    def site(self, site_id: str) -> Site: ...

    def reader(self, reader_id: str) -> Reader: ...

    def request(self, request_id: UUID) -> ApprovableRequest: ...


class ActiveReaders(Protocol):
    def site_of(self, reader_id: str) -> str | None:
        """The site of an active gate reader, or None."""
        ...


# -- writes: on aggregates ----------------------------------------------------------------------

def worker_visible(actor: Actor, worker: Worker) -> bool:
    if actor.role in SEES_EVERYTHING:
        return True
    if actor.role is Role.WORKER:
        return actor.id == worker.technician_id
    if actor.role in BUSINESS_ROLES:
        return any(e.business_id == actor.id for e in worker.employments)
    return False


def site_visible(actor: Actor, site: Site, readers: ActiveReaders) -> bool:
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


def relates_to_site(actor: Actor, site: Site) -> bool:
    """Whether the actor has a relation with the site that lets it know the site exists: admin
    and auditor, a business in its structure (within the key's scope), the prime's site manager
    for a site it names. Registration of an ID that is taken answers a caller without one exactly
    as it answers a fresh ID (Issue 13: no existence oracles)."""
    if actor.role in SEES_EVERYTHING:
        return True
    if actor.role in BUSINESS_ROLES:
        return actor.id in site.subcontracts and actor.scope.covers_site(site.site_id)
    if actor.role is Role.SITE_MANAGER:
        return actor.id == site.prime_business_id and actor.scope.covers_site(site.site_id)
    return False


def request_visible(actor: Actor, request: ManualEntry | Correction, site: Site) -> bool:
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


def visible_worker(ledger: Aggregates, actor: Actor, technician_id: str) -> Worker:
    worker = ledger.worker(technician_id)
    if not worker_visible(actor, worker):
        raise hidden("technician_id", worker.technician_id)
    return worker


def visible_site(ledger: Aggregates, readers: ActiveReaders, actor: Actor, site_id: str) -> Site:
    site = ledger.site(site_id)
    if not site_visible(actor, site, readers):
        raise hidden("site_id", site.site_id)
    return site


def visible_reader(
    ledger: Aggregates, readers: ActiveReaders, actor: Actor, reader_id: str
) -> Reader:
    reader = ledger.reader(reader_id)
    if actor.role is Role.READER and actor.id == reader.reader_id:
        return reader
    if not site_visible(actor, ledger.site(reader.site_id), readers):
        raise hidden("reader_id", reader.reader_id)
    return reader


def visible_request(ledger: Aggregates, actor: Actor, request_id: UUID, kind: type[R]) -> R:
    """A manual entry or a correction; one of the other kind is absent here."""
    request = ledger.request(request_id)
    if not isinstance(request, kind) or not request_visible(
        actor, request, ledger.site(request.site_id)
    ):
        raise hidden("request_id", request_id)
    return request


def request_site(
    ledger: Aggregates, readers: ActiveReaders, actor: Actor, site_id: str, employer: str
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
    ledger: Aggregates, actor: Actor, site: Site, technician_id: str, employer: str, since: date
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


def check_key_scope(scope: Scope, sites: Set[str], workers: Set[str]) -> None:
    """A write by a scoped key names what it acts on within the scope: 403 when it names none
    of that kind, 404 for anything outside."""
    if scope.sites is not None:
        if not sites:
            raise NotPermitted("actor", "key.scope.sites",
                               "a key scoped to sites acts on those sites only")
        for site_id in sites:
            if site_id not in scope.sites:
                raise hidden("site_id", site_id)
    if scope.workers is not None:
        if not workers:
            raise NotPermitted("actor", "key.scope.workers",
                               "a key scoped to workers acts on those workers only")
        for technician_id in workers:
            if technician_id not in scope.workers:
                raise hidden("technician_id", technician_id)


class SiteManagerWrite(Enum):
    DECISION = "decision"  # approving or rejecting a manual entry or correction
    SITE_UPKEEP = "site_upkeep"  # its sites' readers, unknown cards and missing exits
    OTHER = "other"


def check_site_manager_write(actor: Actor, write: SiteManagerWrite) -> None:
    """現場管理者: registers and retires its sites' readers and resolves their exceptions;
    decides manual entries and corrections only where the prime granted it; enters none
    (DESIGN §2)."""
    if write is SiteManagerWrite.DECISION:
        if not actor.scope.approves:
            raise NotPermitted("actor", "site_manager.approves",
                               "the prime has not granted this site manager approval")
        return
    if write is SiteManagerWrite.SITE_UPKEEP:
        return
    raise NotPermitted("actor", "site_manager.writes",
                       "a site manager registers readers, resolves its sites' exceptions and "
                       "decides where granted; not this")


# -- reads: on the read models' facts -----------------------------------------------------------

class ReadFacts(Protocol):
    """What the read rules ask of the read models; each asked only where a rule needs it."""

    def worker_registered(self, technician_id: str) -> bool: ...

    def employs(self, business_id: str, technician_id: str) -> bool: ...

    def active_roster_sites(self, technician_id: str, prime: str) -> set[str]:
        """The prime's active sites (`site_active`) with the worker on their roster."""
        ...

    def site(self, site_id: str) -> tuple[str, Any] | None:
        """A registered site's prime and closing date (None: open), else None."""
        ...

    def self_and_below(self, site_id: str, business_id: str) -> frozenset[str]:
        """The business and every business under it in the site's structure (下位の次数);
        empty if it is not on the site's structure."""
        ...

    def business_registered(self, business_id: str) -> bool: ...

    def orderer_of(self, site_id: str) -> str | None:
        """The business the site's terms name as its orderer (発注者), if any."""
        ...


@dataclass(frozen=True)
class WorkerScope:
    """The part of one worker's records a party may read (None: no limit of that kind)."""

    only_sites_of_prime: str | None = None
    only_employer: str | None = None
    only_sites: frozenset[str] | None = None

    def kwargs(self) -> dict[str, Any]:
        return {"only_sites_of_prime": self.only_sites_of_prime,
                "only_employer": self.only_employer, "only_sites": self.only_sites}

    @property
    def whole(self) -> bool:
        return (self.only_sites_of_prime is None and self.only_employer is None
                and self.only_sites is None)


@dataclass(frozen=True)
class SiteScope:
    """The rows of one site a party may read: those of `employers`, or all (None); and the
    employers whose settlement totals it reads (`figures`; None: all)."""

    site_id: str
    prime_business_id: str
    employers: frozenset[str] | None
    figures: frozenset[str] | None = None

    def shows(self, employer_business_id: str | None) -> bool:
        return self.employers is None or employer_business_id in self.employers

    def shows_figures(self, employer_business_id: str | None) -> bool:
        return self.figures is None or employer_business_id in self.figures


def today() -> date:
    """The JST date a site's activity is judged on."""
    return clock.now().astimezone(clock.JST).date()


def site_active(closed_on: date | str | None) -> bool:
    """A site is active until its closing date has passed (JST)."""
    return closed_on is None or str(closed_on) >= today().isoformat()


def worker_scope(facts: ReadFacts, actor: Actor, technician_id: str) -> WorkerScope:
    """What `actor` may read of the worker's records; absent if nothing, or no such worker."""
    if not actor.scope.covers_worker(technician_id):
        raise hidden("technician_id", technician_id)
    key_sites = actor.scope.sites
    if actor.role in SEES_EVERYTHING or (
            actor.role is Role.WORKER and actor.id == technician_id):
        if facts.worker_registered(technician_id):
            return WorkerScope()
    elif actor.role is Role.EMPLOYER:
        if facts.employs(actor.id, technician_id):
            return WorkerScope(only_employer=actor.id, only_sites=key_sites)
    elif actor.role is Role.PRIME_CONTRACTOR:
        sites = facts.active_roster_sites(technician_id, actor.id)
        if key_sites is not None:
            sites &= key_sites
        if sites:
            return WorkerScope(only_sites_of_prime=actor.id, only_sites=frozenset(sites))
    raise hidden("technician_id", technician_id)


def site_scope(facts: ReadFacts, actor: Actor, site_id: str) -> SiteScope:
    """What `actor` may read of a site; absent if nothing, or no such site."""
    site = facts.site(site_id)
    if site is None or not actor.scope.covers_site(site_id) or actor.scope.workers is not None:
        raise hidden("site_id", site_id)  # a key scoped to workers reads no site's rows
    prime, closed_on = site
    active = site_active(closed_on)
    if actor.role in SEES_EVERYTHING:
        return SiteScope(site_id, prime, None)
    if actor.role in (*BUSINESS_ROLES, Role.SITE_MANAGER) and actor.id == prime:
        if active:
            return SiteScope(site_id, prime, None)
        if actor.role is not Role.SITE_MANAGER:  # a closed site has no site manager
            return SiteScope(site_id, prime, frozenset({prime}), figures=None)
    elif actor.role in BUSINESS_ROLES:
        below = facts.self_and_below(site_id, actor.id)
        if below:
            own = below if active else frozenset({actor.id})
            return SiteScope(site_id, prime, own, figures=own)
    raise hidden("site_id", site_id)


def prime_scope(facts: ReadFacts, actor: Actor, business_id: str) -> str:
    """A prime reads its own inbox (a site manager or a key scoped to sites: the part on its
    sites, `in_key_scope`); auditors and admins any registered business's."""
    if actor.role in SEES_EVERYTHING:
        if facts.business_registered(business_id):
            return business_id
    elif actor.id == business_id and actor.scope.workers is None:
        return business_id
    raise hidden("business_id", business_id)


def in_key_scope(actor: Actor, site_id: str) -> bool:
    """Whether a row of this site is within the key's scope of sites."""
    return actor.scope.covers_site(site_id)


def summary_scope(facts: ReadFacts, actor: Actor, site_id: str) -> str:
    """A site's aggregates without personal data (the orderer's view): its orderer, its prime
    (and the prime's site managers of it, with keys of its scope) whether or not the site is
    closed, auditors and admins. Anyone else, and an absent site: absent."""
    site = facts.site(site_id)
    if site is None or not actor.scope.covers_site(site_id) or actor.scope.workers is not None:
        raise hidden("site_id", site_id)
    prime, _ = site
    if actor.role in SEES_EVERYTHING:
        return site_id
    if actor.role is Role.ORDERER and facts.orderer_of(site_id) == actor.id:
        return site_id
    if actor.role in (Role.PRIME_CONTRACTOR, Role.SITE_MANAGER) and actor.id == prime:
        return site_id
    raise hidden("site_id", site_id)


def orderer_scope(facts: ReadFacts, actor: Actor, business_id: str) -> str:
    """An orderer reads the list of its own sites; auditors and admins any business's."""
    if actor.role in SEES_EVERYTHING:
        if facts.business_registered(business_id):
            return business_id
    elif actor.role is Role.ORDERER and actor.id == business_id:
        return business_id
    raise hidden("business_id", business_id)


def account_scope(facts: ReadFacts, actor: Actor, business_id: str) -> str:
    """建退共の口座: a contracting employer reads its own points with an unscoped key (a key
    scoped to sites or workers reads nothing business-wide); auditors and admins any
    registered business's. Anyone else: the 404 of an unregistered business."""
    if actor.role in SEES_EVERYTHING:
        if facts.business_registered(business_id):
            return business_id
    elif (actor.role in BUSINESS_ROLES and actor.id == business_id
          and actor.scope.sites is None and actor.scope.workers is None):
        return business_id
    raise hidden("business_id", business_id)


def employer_scope(facts: ReadFacts, actor: Actor, business_id: str) -> frozenset[str] | None:
    """A business's own workers (所属技能者): their list, pending requests and working time. The
    business itself reads them (a key scoped to workers: those only; a key scoped to sites: none
    of them); auditors and admins any registered business's. Returns the workers the key is
    limited to (None: all of the business's). Anyone else: absent."""
    if actor.role in SEES_EVERYTHING:
        if facts.business_registered(business_id):
            return None
    elif actor.role in BUSINESS_ROLES and actor.id == business_id and actor.scope.sites is None:
        return actor.scope.workers
    raise hidden("business_id", business_id)
def may_show_gate_code(actor: Actor, site: Site, reader_site: str | None) -> bool:
    """Who may show a site's gate code (スマホ入場) at its gate: an admin, the prime or its site
    manager with the site in the key's scope, or a reader key registered to the site
    (`reader_site`: the actor's reader's site, when the actor is a reader). An auditor reads
    everything but stands at no gate."""
    if actor.role is Role.ADMIN:
        return True
    if actor.role in (Role.PRIME_CONTRACTOR, Role.SITE_MANAGER):
        return actor.id == site.prime_business_id and actor.scope.covers_site(site.site_id)
    if actor.role is Role.READER:
        return reader_site == site.site_id
    return False
