"""Liveness and readiness, for load balancers and `make run`; no key needed. The billing jobs'
figures (Kentaikyo points, site fees: money a business owes) are shown only to a request with an
auditor's or admin's key; without one their runs are listed with their counts left out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.security import HTTPAuthorizationCredentials

from api.deps import Credentials, KeyStoreDep, LedgerDep, ReadPoolDep
from api.openapi import problems
from api.problems import NotReady, Unavailable
from api.reading import projection_lag
from api.schemas.health import (
    Health,
    JobRunPublic,
    QuarantinedEventPublic,
    Readiness,
    ReadModelCheckPublic,
    ReadReplicaPublic,
)
from ledger.privacy import SEES_EVERYTHING
from ledger.storage.keys import KeyStore
from projections.jobs.runs import last_finished_run, recent_job_runs
from projections.jobs.scheduler import BILL, SETTLE, VERIFY_READ_MODELS
from projections.leader import ProjectionFailure, last_failure
from projections.quarantine import QuarantinedEvent, quarantined

router = APIRouter(tags=["health"])
JOB_RUNS_SHOWN = 10
QUARANTINED_SHOWN = 100


@router.get("/health")
async def health() -> Health:
    """Liveness: the process answers."""
    return Health()


@router.get("/ready", responses=problems(503))
def ready(request: Request, ledger: LedgerDep, keys: KeyStoreDep, pool: ReadPoolDep,
          credentials: Credentials) -> Readiness:
    """Readiness: the database answers, no event is quarantined and the projection is not
    failing; the log's head, the projection's lag, recent job runs. Not ready is a 503
    problem (not-ready) naming the quarantined events' positions, workers and sites, with the
    figures below as its extension members."""
    try:
        keys.ping()
        with pool.store() as store:
            lag = projection_lag(ledger, store)
            runs = recent_job_runs(store, JOB_RUNS_SHOWN)
            failure = last_failure(store)
            with store.read() as tx:
                held = quarantined(tx)
            read_model_check = last_finished_run(store, VERIFY_READ_MODELS)
    except Exception as error:  # whatever the driver raises, the answer is "not ready"
        raise Unavailable(str(error)) from error
    billing = sees_billing(keys, credentials)
    service, scheduler = request.app.state.projection, request.app.state.scheduler
    readiness = Readiness(
        log_position=lag.log_position, projection_position=lag.projection_position,
        lag_events=lag.events, lag_seconds=lag.seconds,
        projecting_here=service is not None and service.projecting,
        projection_error=None if failure is None else failure.kind,
        projection_failed_at=None if failure is None else failure.failed_at,
        projection_failed_in=None if failure is None else failure.process,
        quarantined=[QuarantinedEventPublic.model_validate(event)
                     for event in held[:QUARANTINED_SHOWN]],
        scheduler_running=scheduler is not None and scheduler.running,
        job_runs=[shown(JobRunPublic.model_validate(run), billing) for run in runs],
        read_model_check=ReadModelCheckPublic.from_run(read_model_check),
        read_replicas=[ReadReplicaPublic(number=replica.number, state=replica.state,  # type: ignore[arg-type]
                                         lag_seconds=replica.lag_seconds)
                       for replica in pool.replica_health()])
    if held or failure is not None:  # a load balancer sees it; the body says why
        raise NotReady(not_ready_because(held, failure), readiness.model_dump(
            mode="json", exclude={"status"}))
    return readiness


BILLING_JOBS = frozenset({SETTLE, BILL})


def sees_billing(keys: KeyStore, credentials: HTTPAuthorizationCredentials | None) -> bool:
    """Whether the request carries an auditor's or admin's key (any other key, or none or an
    unknown one, is answered as without: readiness never refuses)."""
    if credentials is None:
        return False
    actor = keys.authenticate(credentials.credentials)
    return actor is not None and actor.role in SEES_EVERYTHING


def shown(run: JobRunPublic, billing: bool) -> JobRunPublic:
    """A billing job's counts (yen, points, primes billed) only with `billing`."""
    if run.job in BILLING_JOBS and not billing:
        return run.model_copy(update={"counts": {}})
    return run


def not_ready_because(held: list[QuarantinedEvent], failure: ProjectionFailure | None) -> str:
    reasons = []
    if held:
        named = "; ".join(
            f"position {event.position} ({event.event_type}, worker "
            f"{event.technician_id or 'unknown'}, site {event.site_id or 'unknown'})"
            for event in held[:QUARANTINED_SHOWN])
        reasons.append(f"{len(held)} event(s) quarantined, not projected: {named}; "
                       "reads about those workers and sites may be incomplete "
                       "(`ledger quarantine list`, `ledger quarantine retry`)")
    if failure is not None:
        reasons.append(f"the projection is failing ({failure.kind}) in {failure.process}")
    return "; ".join(reasons)
