"""Liveness and readiness, for load balancers and `make run`; no key needed."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import KeyStoreDep, LedgerDep
from api.openapi import problems
from api.problems import Unavailable
from api.schemas.health import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> Health:
    """Liveness: the process answers."""
    return Health()


@router.get("/ready", responses=problems(503))
def ready(ledger: LedgerDep, keys: KeyStoreDep) -> Readiness:
    """Readiness: the database answers and is migrated; the log's current position."""
    try:
        keys.ping()
        position = ledger.log_position()
    except Exception as error:  # whatever the driver raises, the answer is "not ready"
        raise Unavailable(str(error)) from error
    return Readiness(log_position=position)
