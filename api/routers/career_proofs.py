"""経歴証明: a worker's signed career proof in one trade, for the worker to carry to whoever
cannot query this ledger (a new employer, a level-judgment body, the immigration office).

Read by those who read the worker's level judgment (`LevelReads`, `ledger.privacy.worker_scope`):
the worker, an employer the worker's employment joins to them (registered by it, or confirmed
by the worker), auditors and admins (logged); anyone else is answered as for an unregistered
worker (404), a prime or a key scoped to sites 403 whatever exists.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import LedgerDep, LevelReads
from api.openapi import AUTHENTICATED, problems
from api.query_params import FIRST_DAY, LAST_DAY
from api.reading import Reading
from api.schemas.career_proofs import CareerProofPublic
from api.schemas.common import TechnicianIdPath
from projections.queries.career_proof import build_career_proof, signing_key
from projections.queries.scopes import worker_scope
from projections.store import ReadStore

router = APIRouter(prefix="/workers", tags=["careers"], responses=AUTHENTICATED)
ProofTrade = Annotated[str, Query(min_length=1, max_length=40,
                                  description="職種: slug, name or CCUS code")]
ProofDateTo = Annotated[date | None, Query(
    ge=FIRST_DAY, le=LAST_DAY, description="Last work date counted (JST); default the last "
    "sealed day. Records after the last sealed day are listed as left out")]


@router.get("/{technician_id}/career-proof", responses=problems(404, 409, 422))
async def get_career_proof(
    technician_id: TechnicianIdPath, trade: ProofTrade, reads: LevelReads, ledger: LedgerDep,
    date_to: ProofDateTo = None,
) -> CareerProofPublic:
    """経歴証明: work days, 職長 and 班長 days in a trade and certified days, signed with the seal
    key, each counted record proven to a signed daily head (only sealed days)."""

    def prove(read: Reading) -> CareerProofPublic:
        worker_scope(read.tx, read.actor, technician_id)  # absent unless the career is theirs
        key = signing_key(ledger)
        # Proofs read the log's runs with their own reads, beside the request's transaction.
        store = ReadStore(ledger.settings, read_only=True)
        try:
            proof = build_career_proof(ledger, store, technician_id, trade, date_to, key)
        finally:
            store.close()
        return CareerProofPublic.model_validate(proof.as_dict())

    return await reads.run(prove)
