"""The read models' side of privacy: the facts `ledger.privacy`'s read rules decide on, asked in
the reader's own transaction, and the rules applied to them (who may read what is decided there,
once, for reads and writes alike)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ledger import privacy
from ledger.actors import Actor
from ledger.key_powers import ReaderSite
from ledger.privacy import SiteScope, WorkerScope
from projections.store import Tx


class ReadModelFacts:
    """`ledger.privacy.ReadFacts` and `ledger.key_powers.ScopeFacts` on one read transaction."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    def worker_registered(self, technician_id: str) -> bool:
        return self._exists("SELECT 1 FROM {workers} WHERE technician_id = %s", [technician_id])

    def employs(self, business_id: str, technician_id: str) -> bool:
        return self._exists("SELECT 1 FROM {worker_employments} WHERE technician_id = %s "
                            "AND business_id = %s", [technician_id, business_id])

    def active_roster_sites(self, technician_id: str, prime: str) -> set[str]:
        # `privacy.site_active` in SQL: not closed, or closed today or later (JST)
        return {str(row[0]) for row in self.tx.execute(
            "SELECT DISTINCT s.site_id FROM {sites} s JOIN {roster_history} r "
            "ON r.site_id = s.site_id WHERE r.technician_id = %s AND s.prime_business_id = %s "
            "AND (s.closed_on IS NULL OR s.closed_on >= %s)",
            [technician_id, prime, privacy.today()])}

    def site(self, site_id: str) -> tuple[str, Any] | None:
        rows = self.tx.execute(
            "SELECT prime_business_id, closed_on FROM {sites} WHERE site_id = %s", [site_id])
        return (str(rows[0][0]), rows[0][1]) if rows else None

    def self_and_below(self, site_id: str, business_id: str) -> frozenset[str]:
        children: defaultdict[str, list[str]] = defaultdict(list)
        on_site = set()
        for business, parent in self.tx.execute(
                "SELECT business_id, parent_business_id FROM {site_structure} "
                "WHERE site_id = %s", [site_id]):
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

    def is_prime_of(self, site_id: str, business_id: str) -> bool:
        return self._exists("SELECT 1 FROM {sites} WHERE site_id = %s AND prime_business_id = %s",
                            [site_id, business_id])

    def on_structure(self, site_id: str, business_id: str) -> bool:
        return self._exists("SELECT 1 FROM {site_structure} WHERE site_id = %s "
                            "AND business_id = %s", [site_id, business_id])

    def business_registered(self, business_id: str) -> bool:
        return self._exists("SELECT 1 FROM {businesses} WHERE business_id = %s", [business_id])

    def orderer_of(self, site_id: str) -> str | None:
        rows = self.tx.execute(
            "SELECT orderer_business_id FROM {site_terms} WHERE site_id = %s", [site_id])
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def _exists(self, sql: str, params: list[Any]) -> bool:
        return bool(self.tx.execute(sql + " LIMIT 1", params))


def worker_scope(tx: Tx, actor: Actor, technician_id: str) -> WorkerScope:
    return privacy.worker_scope(ReadModelFacts(tx), actor, technician_id)


def site_scope(tx: Tx, actor: Actor, site_id: str) -> SiteScope:
    return privacy.site_scope(ReadModelFacts(tx), actor, site_id)


def prime_scope(tx: Tx, actor: Actor, business_id: str) -> str:
    return privacy.prime_scope(ReadModelFacts(tx), actor, business_id)


def account_scope(tx: Tx, actor: Actor, business_id: str) -> str:
    return privacy.account_scope(ReadModelFacts(tx), actor, business_id)


def summary_scope(tx: Tx, actor: Actor, site_id: str) -> str:
    return privacy.summary_scope(ReadModelFacts(tx), actor, site_id)


def orderer_scope(tx: Tx, actor: Actor, business_id: str) -> str:
    return privacy.orderer_scope(ReadModelFacts(tx), actor, business_id)


def employer_scope(tx: Tx, actor: Actor, business_id: str) -> frozenset[str] | None:
    return privacy.employer_scope(ReadModelFacts(tx), actor, business_id)


def reader_sites(tx: Tx) -> dict[str, ReaderSite]:
    """Every registered reader's site, for the key powers (one query for a whole list)."""
    return {str(reader): ReaderSite(str(site), str(prime), retired is not None)
            for reader, site, prime, retired in tx.execute(
                "SELECT r.reader_id, r.site_id, s.prime_business_id, r.retired_at_position "
                "FROM {reader_registry} r JOIN {sites} s ON s.site_id = r.site_id")}
