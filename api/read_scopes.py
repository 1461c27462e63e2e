"""Who may read what (DESIGN §2 Privacy), decided on the read models before a query runs.

- A worker reads their own records only.
- An employer (所属事業者) reads its workers' records whose employer it is (`only_employer`).
- A prime contractor (元請) reads a worker's records on its own sites **while the site is active
  with the worker on its roster** (DESIGN §2 "Privacy while active"; `only_sites`): a site is
  active until its closing date has passed (JST). From then on its per-worker records are the
  worker's and the employer's again; what stays with the prime is the site-level figures (the
  site's settlement by employer, below) and the decisions still pending on its sites (its inbox,
  until decided or expired). Never the worker's records at other companies' sites, never
  registration details.
- On a site, the prime (and its site managers of that site) reads every row while the site is
  active; a subcontractor reads its own workers and those of the businesses below it in the
  site's structure (施工体制, `site_structure`), never those above or beside it. Once the site is
  closed, each business reads its own workers' rows; the prime keeps the site's settlement
  totals by employer (`SiteScope.figures`).
- A key with a scope (管理者, 現場管理者) reads only within it: a key scoped to sites reads
  those sites, and a worker's records on them; a key scoped to workers reads those workers.
- An auditor or an admin reads everything (and every such read is logged:
  `ledger.storage.audit_reads`).

Whatever a party may not read is answered exactly like something absent (`hidden`: the 404 of an
unregistered worker or site), so a refusal never tells whether it exists. Roles that may never
read a kind of thing are refused before anything is looked up (403, `Reads` dependencies).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from api.problems import hidden
from ledger import clock
from ledger.actors import Actor, Role
from projections.store import Tx

SEES_EVERYTHING = (Role.AUDITOR, Role.ADMIN)
BUSINESS_ROLES = (Role.PRIME_CONTRACTOR, Role.EMPLOYER)


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


def today() -> date:
    """The JST date a site's activity is judged on."""
    return clock.now().astimezone(clock.JST).date()


def worker_scope(tx: Tx, actor: Actor, technician_id: str) -> WorkerScope:
    """What `actor` may read of the worker's records; 404 if nothing, or no such worker."""
    if not actor.scope.covers_worker(technician_id):
        raise hidden("technician_id", technician_id)
    key_sites = actor.scope.sites
    if actor.role in SEES_EVERYTHING or (
            actor.role is Role.WORKER and actor.id == technician_id):
        if _exists(tx, "SELECT 1 FROM {workers} WHERE technician_id = %s", [technician_id]):
            return WorkerScope()
    elif actor.role is Role.EMPLOYER:
        if _exists(tx, "SELECT 1 FROM {worker_employments} WHERE technician_id = %s "
                   "AND business_id = %s", [technician_id, actor.id]):
            return WorkerScope(only_employer=actor.id, only_sites=key_sites)
    elif actor.role is Role.PRIME_CONTRACTOR:
        sites = active_roster_sites(tx, technician_id, actor.id)
        if key_sites is not None:
            sites &= key_sites
        if sites:
            return WorkerScope(only_sites_of_prime=actor.id, only_sites=frozenset(sites))
    raise hidden("technician_id", technician_id)


def active_roster_sites(tx: Tx, technician_id: str, prime: str) -> set[str]:
    """The prime's active sites with the worker on their roster."""
    return {str(row[0]) for row in tx.execute(
        "SELECT DISTINCT s.site_id FROM {sites} s JOIN {roster_history} r "
        "ON r.site_id = s.site_id WHERE r.technician_id = %s AND s.prime_business_id = %s "
        "AND (s.closed_on IS NULL OR s.closed_on >= %s)", [technician_id, prime, today()])}


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


def site_scope(tx: Tx, actor: Actor, site_id: str) -> SiteScope:
    """What `actor` may read of a site; 404 if nothing, or no such site."""
    rows = tx.execute("SELECT prime_business_id, closed_on FROM {sites} WHERE site_id = %s",
                      [site_id])
    if not rows or not actor.scope.covers_site(site_id) or actor.scope.workers is not None:
        raise hidden("site_id", site_id)  # a key scoped to workers reads no site's rows
    prime, closed_on = str(rows[0][0]), rows[0][1]
    active = closed_on is None or str(closed_on) >= today().isoformat()
    if actor.role in SEES_EVERYTHING:
        return SiteScope(site_id, prime, None)
    if actor.role in (*BUSINESS_ROLES, Role.SITE_MANAGER) and actor.id == prime:
        if active:
            return SiteScope(site_id, prime, None)
        if actor.role is not Role.SITE_MANAGER:  # a closed site has no site manager
            return SiteScope(site_id, prime, frozenset({prime}), figures=None)
    elif actor.role in BUSINESS_ROLES:
        below = _self_and_below(tx, site_id, actor.id)
        if below:
            own = below if active else frozenset({actor.id})
            return SiteScope(site_id, prime, own, figures=own)
    raise hidden("site_id", site_id)


def _self_and_below(tx: Tx, site_id: str, business_id: str) -> frozenset[str]:
    """The business and every business under it on the site (下位の次数); empty if it is not on
    the site's structure."""
    children: defaultdict[str, list[str]] = defaultdict(list)
    on_site = set()
    for business, parent in tx.execute(
            "SELECT business_id, parent_business_id FROM {site_structure} WHERE site_id = %s",
            [site_id]):
        on_site.add(business)
        if parent is not None:
            children[parent].append(business)
    if business_id not in on_site:
        return frozenset()
    found, todo = {business_id}, [business_id]
    while todo:
        for child in children[todo.pop()]:
            if child not in found:
                found.add(child)
                todo.append(child)
    return frozenset(found)


def prime_scope(tx: Tx, actor: Actor, business_id: str) -> str:
    """A prime reads its own inbox (a site manager or a key scoped to sites: the part on its
    sites, `in_key_scope`); auditors and admins any registered business's."""
    if actor.role in SEES_EVERYTHING:
        if _exists(tx, "SELECT 1 FROM {businesses} WHERE business_id = %s", [business_id]):
            return business_id
    elif actor.id == business_id and actor.scope.workers is None:
        return business_id
    raise hidden("business_id", business_id)


def in_key_scope(actor: Actor, site_id: str) -> bool:
    """Whether a row of this site is within the key's scope of sites."""
    return actor.scope.covers_site(site_id)


def _exists(tx: Tx, sql: str, params: list[Any]) -> bool:
    return bool(tx.execute(sql + " LIMIT 1", params))
