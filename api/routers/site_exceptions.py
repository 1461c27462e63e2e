"""A site's exceptions resolved by its staff (the prime, its 現場管理者, admin): unknown cards and
missing exits.

A site the caller may not see answers as an unregistered one; the decision itself is the
ledger's (`Ledger.assign_unknown_card`), which refuses anyone else on the site.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter

from api.deps import CurrentActor, LedgerDep, ReadersDep
from api.openapi import AUTHENTICATED, problems
from api.reader_directory import ReaderDirectory
from api.schemas.common import CardIdPath, Receipt, SiteIdPath
from api.schemas.site_exceptions import MissingExitResolve, UnknownCardAssign
from ledger.actors import Actor, Role
from ledger.application import Ledger, require_role
from ledger.privacy import visible_site

router = APIRouter(prefix="/sites", tags=["site exceptions"], responses=AUTHENTICATED)


@router.post("/{site_id}/unknown-cards/{card_id}/assign", responses=problems(404, 409))
def assign_unknown_card(
    site_id: SiteIdPath, card_id: CardIdPath, body: UnknownCardAssign, actor: CurrentActor,
    ledger: LedgerDep, readers: ReadersDep,
) -> Receipt:
    """Assign an unknown card seen at the site to a worker on its roster, naming one of its
    flagged taps here (`tap_id`, from the exceptions list) and the reason: the card's flagged
    taps at this site, up to now, count for the worker as card taps. 409 naming the field for a
    tap that is not this card's at this site, an issued card, a worker not on the roster."""
    return _decide(ledger, readers, actor, site_id, lambda: ledger.assign_unknown_card(
        site_id, card_id, body.tap_id, body.technician_id, body.reason, actor))


@router.post("/{site_id}/missing-exits/resolve", responses=problems(404, 409))
def resolve_missing_exit(
    site_id: SiteIdPath, body: MissingExitResolve, actor: CurrentActor, ledger: LedgerDep,
    readers: ReadersDep,
) -> Receipt:
    """A past day's entry no exit closed: the worker left at `exit_at` as the site's staff state
    it, or at a time unknown (null), with the reason. Kept beside the record, never as a tap:
    the work day stays as it was, and a real exit tap still closes the record. 409 naming the
    field for a worker not on the roster."""
    return _decide(ledger, readers, actor, site_id, lambda: ledger.resolve_missing_exit(
        site_id, body.technician_id, body.work_date, body.exit_at, body.reason, actor))


def _decide(
    ledger: Ledger, readers: ReaderDirectory, actor: Actor, site_id: str,
    decision: Callable[[], None],
) -> Receipt:
    """A site the caller may not see answers as an unregistered one, before the ledger decides
    (an employer may see a site it works on, and is refused there by the ledger)."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR, Role.SITE_MANAGER, Role.EMPLOYER)
    visible_site(ledger, readers, actor, site_id)
    decision()
    return Receipt(position=ledger.log_position())
