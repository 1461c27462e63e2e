"""Liveness and readiness, for load balancers and `make run`; no key needed."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import KeyStoreDep, LedgerDep, ReadPoolDep
from api.openapi import problems
from api.problems import Unavailable
from api.projection_service import last_failure
from api.reading import projection_lag
from api.schemas.health import Health, JobRunPublic, QuarantinedEventPublic, Readiness
from projections.quarantine import quarantined
from projections.settlement.runs import recent_job_runs

router = APIRouter(tags=["health"])
JOB_RUNS_SHOWN = 10
QUARANTINED_SHOWN = 100


@router.get("/health")
async def health() -> Health:
    """Liveness: the process answers."""
    return Health()


@router.get("/ready", responses={**problems(503), 503: {
    "description": "Not ready: the database does not answer (problem+json), or an event is "
    "quarantined or the projection is failing (this body, status not_ready)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}},
                **problems(503)[503]["content"]}}})
def ready(request: Request, response: Response, ledger: LedgerDep, keys: KeyStoreDep,
          pool: ReadPoolDep) -> Readiness:
    """Readiness: the database answers, no event is quarantined and the projection is not
    failing (else 503); the log's head, the projection's lag, recent job runs."""
    try:
        keys.ping()
        with pool.store() as store:
            lag = projection_lag(ledger, store)
            runs = recent_job_runs(store, JOB_RUNS_SHOWN)
            failure = last_failure(store)
            with store.read() as tx:
                held = quarantined(tx)
    except Exception as error:  # whatever the driver raises, the answer is "not ready"
        raise Unavailable(str(error)) from error
    service, scheduler = request.app.state.projection, request.app.state.scheduler
    not_ready = bool(held) or failure is not None
    if not_ready:  # a load balancer sees it; the body says why
        response.status_code = 503
    return Readiness(
        status="not_ready" if not_ready else "ready",
        log_position=lag.log_position, projection_position=lag.projection_position,
        lag_events=lag.events, lag_seconds=lag.seconds,
        projecting_here=service is not None and service.projecting,
        projection_error=None if failure is None else failure.kind,
        projection_failed_at=None if failure is None else failure.failed_at,
        projection_failed_in=None if failure is None else failure.process,
        quarantined=[QuarantinedEventPublic.model_validate(event)
                     for event in held[:QUARANTINED_SHOWN]],
        scheduler_running=scheduler is not None and scheduler.running,
        job_runs=[JobRunPublic.model_validate(run) for run in runs])
