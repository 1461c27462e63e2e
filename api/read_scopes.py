"""Who may read what (DESIGN §2 Privacy), decided on the read models before a query runs.

- A worker reads their own records only.
- An employer (所属事業者) reads its workers' records whose employer it is (`only_employer`).
- A prime contractor (元請) reads records on its own sites only (`only_sites_of_prime`), never the
  same worker's records at other companies' sites, and no registration details.
- On a site, the prime reads every row; a subcontractor reads its own workers and those of the
  businesses below it in the site's structure (施工体制, `site_structure`), never those above or
  beside it.
- An auditor or an admin reads everything (and every such read is logged: `api.audit_log`).

Whatever a party may not read is answered exactly like something absent (`hidden`: the 404 of an
unregistered worker or site), so a refusal never tells whether it exists. Roles that may never
read a kind of thing are refused before anything is looked up (403, `Reads` dependencies).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from api.problems import hidden
from ledger.actors import Actor, Role
from projections.store import Tx

SEES_EVERYTHING = (Role.AUDITOR, Role.ADMIN)
BUSINESS_ROLES = (Role.PRIME_CONTRACTOR, Role.EMPLOYER)


@dataclass(frozen=True)
class WorkerScope:
    """The part of one worker's records a party may read (None: no limit of that kind)."""

    only_sites_of_prime: str | None = None
    only_employer: str | None = None

    def kwargs(self) -> dict[str, Any]:
        return {"only_sites_of_prime": self.only_sites_of_prime,
                "only_employer": self.only_employer}

    @property
    def whole(self) -> bool:
        return self.only_sites_of_prime is None and self.only_employer is None


def worker_scope(tx: Tx, actor: Actor, technician_id: str) -> WorkerScope:
    """What `actor` may read of the worker's records; 404 if nothing, or no such worker."""
    if actor.role in SEES_EVERYTHING or (
            actor.role is Role.WORKER and actor.id == technician_id):
        if _exists(tx, "SELECT 1 FROM {workers} WHERE technician_id = %s", [technician_id]):
            return WorkerScope()
    elif actor.role is Role.EMPLOYER:
        if _exists(tx, "SELECT 1 FROM {worker_employments} WHERE technician_id = %s "
                   "AND business_id = %s", [technician_id, actor.id]):
            return WorkerScope(only_employer=actor.id)
    elif actor.role is Role.PRIME_CONTRACTOR and _on_sites_of(tx, technician_id, actor.id):
        return WorkerScope(only_sites_of_prime=actor.id)
    raise hidden("technician_id", technician_id)


def _on_sites_of(tx: Tx, technician_id: str, prime: str) -> bool:
    """On the roster of, or with a record at, one of the prime's sites."""
    return _exists(
        tx, "SELECT 1 FROM {roster_history} r JOIN {sites} s ON s.site_id = r.site_id "
        "WHERE r.technician_id = %s AND s.prime_business_id = %s", [technician_id, prime],
    ) or _exists(
        tx, "SELECT 1 FROM {work_records} w JOIN {sites} s ON s.site_id = w.site_id "
        "WHERE w.technician_id = %s AND s.prime_business_id = %s", [technician_id, prime])


@dataclass(frozen=True)
class SiteScope:
    """The rows of one site a party may read: those of `employers`, or all (None)."""

    site_id: str
    prime_business_id: str
    employers: frozenset[str] | None

    def shows(self, employer_business_id: str | None) -> bool:
        return self.employers is None or employer_business_id in self.employers


def site_scope(tx: Tx, actor: Actor, site_id: str) -> SiteScope:
    """What `actor` may read of a site; 404 if nothing, or no such site."""
    rows = tx.execute("SELECT prime_business_id FROM {sites} WHERE site_id = %s", [site_id])
    if not rows:
        raise hidden("site_id", site_id)
    prime = str(rows[0][0])
    if actor.role in SEES_EVERYTHING or (actor.role in BUSINESS_ROLES and actor.id == prime):
        return SiteScope(site_id, prime, None)
    if actor.role in BUSINESS_ROLES:
        below = _self_and_below(tx, site_id, actor.id)
        if below:
            return SiteScope(site_id, prime, below)
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
    """A prime reads its own inbox; auditors and admins any registered business's."""
    if actor.role in SEES_EVERYTHING:
        if _exists(tx, "SELECT 1 FROM {businesses} WHERE business_id = %s", [business_id]):
            return business_id
    elif actor.id == business_id:
        return business_id
    raise hidden("business_id", business_id)


def _exists(tx: Tx, sql: str, params: list[Any]) -> bool:
    return bool(tx.execute(sql + " LIMIT 1", params))
