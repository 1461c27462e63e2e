"""/metrics: Prometheus's text format, no key (aggregate figures only: see api.metrics)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import LedgerDep, ReadPoolDep
from api.metrics import exposition

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, include_in_schema=False)
def metrics(ledger: LedgerDep, pool: ReadPoolDep) -> Response:
    """Counters of this service's processes and figures of its database, for a scraper."""
    with pool.store() as store:
        body = exposition(ledger, store, pool.replica_health())
    return Response(body, media_type=CONTENT_TYPE_LATEST)
