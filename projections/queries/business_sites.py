"""The sites a business works on (as prime or in the subcontract structure), for its menu: its own
business only, so no privacy rule beyond the key's scope of sites applies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from projections.queries._common import Source, reading
from projections.store import as_date


@dataclass(frozen=True)
class BusinessSite:
    site_id: str
    name: str
    prime: bool  # the business is the site's prime contractor (元請)
    closed_on: date | None


def business_sites(source: Source, business_id: str) -> list[BusinessSite]:
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT s.site_id, s.name, s.prime_business_id, s.closed_on FROM {sites} s "
            "WHERE s.prime_business_id = %s OR EXISTS (SELECT 1 FROM {site_structure} t "
            "WHERE t.site_id = s.site_id AND t.business_id = %s) ORDER BY s.site_id",
            [business_id, business_id])
    return [BusinessSite(str(site), str(name), prime == business_id, as_date(closed))
            for site, name, prime, closed in rows]
