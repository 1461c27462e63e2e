"""A site's exceptions resolved by its staff (the prime, its 現場管理者, admin).

A site the caller may not see answers as an unregistered one; the decision itself is the
ledger's (`Ledger.assign_unknown_card`), which refuses anyone else on the site.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor, LedgerDep, ReadersDep, ReadPoolDep
from api.openapi import AUTHENTICATED, problems
from api.privacy import visible_site
from api.schemas.common import CardIdPath, Receipt, SiteIdPath
from api.schemas.site_exceptions import UnknownCardAssign
from ledger.actors import Role
from ledger.application import require_role
from projections.queries.exceptions import require_unknown_card_open

router = APIRouter(prefix="/sites", tags=["site exceptions"], responses=AUTHENTICATED)


@router.post("/{site_id}/unknown-cards/{card_id}/assign", responses=problems(404, 409))
def assign_unknown_card(
    site_id: SiteIdPath, card_id: CardIdPath, body: UnknownCardAssign, actor: CurrentActor,
    ledger: LedgerDep, readers: ReadersDep, pool: ReadPoolDep,
) -> Receipt:
    """Assign an unknown card seen at the site to a worker on its roster, with the reason: the
    card's flagged taps here, up to now, count for the worker as card taps (409 naming the field
    for a card with no open unknown-card tap here, an issued card, a worker not on the roster)."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR, Role.SITE_MANAGER, Role.EMPLOYER)
    visible_site(ledger, readers, actor, site_id)
    with pool.store() as store:
        require_unknown_card_open(store, site_id, card_id)
    ledger.assign_unknown_card(site_id, card_id, body.technician_id, body.reason, actor)
    return Receipt(position=ledger.log_position())
