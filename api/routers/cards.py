"""Cards: issued to one worker, revoked when lost (admin)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentActor, LedgerDep
from api.openapi import AUTHENTICATED, problems
from api.schemas.cards import CardCreate, CardPublic, CardRevoke
from api.schemas.common import CardIdPath, Receipt

router = APIRouter(prefix="/cards", tags=["cards"], responses=AUTHENTICATED)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(404, 409))
def issue_card(body: CardCreate, actor: CurrentActor, ledger: LedgerDep) -> CardPublic:
    """Issue a card to a worker (admin)."""
    ledger.issue_card(body.card_id, body.technician_id, actor)
    return CardPublic(card_id=body.card_id, technician_id=body.technician_id,
                      position=ledger.log_position())


@router.post("/{card_id}/revoke", responses=problems(404, 409))
def revoke_card(
    card_id: CardIdPath, body: CardRevoke, actor: CurrentActor, ledger: LedgerDep
) -> Receipt:
    """Revoke a card; its later taps are stored and flagged (admin)."""
    ledger.revoke_card(card_id, body.reason, actor)
    return Receipt(position=ledger.log_position())
