"""事業者: businesses."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentActor, LedgerDep
from api.openapi import AUTHENTICATED, problems
from api.schemas.businesses import BusinessCreate, BusinessPublic, KentaikyoContractCreate
from api.schemas.common import BusinessIdPath, Receipt

router = APIRouter(prefix="/businesses", tags=["businesses"], responses=AUTHENTICATED)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(409))
def register_business(
    body: BusinessCreate, actor: CurrentActor, ledger: LedgerDep
) -> BusinessPublic:
    """Register a business (admin)."""
    ledger.register_business(body.business_id, body.name, actor)
    return BusinessPublic(business_id=body.business_id, position=ledger.log_position())


@router.post("/{business_id}/kentaikyo", responses=problems(404, 409))
def enroll_in_kentaikyo(
    business_id: BusinessIdPath, body: KentaikyoContractCreate, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """共済契約者: enroll a business in Kentaikyo (admin, or the business itself)."""
    ledger.enroll_business_in_kentaikyo(business_id, body.contract_number, body.since, actor)
    return Receipt(position=ledger.log_position())
