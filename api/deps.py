"""Dependencies: what a route needs, named in its signature (`CurrentActor`, `LedgerDep`, …)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api import problems
from api.audit_log import LOGGED_ROLES, AuditReadLog
from api.config import ApiSettings
from api.keys import KeyStore, authenticate_with
from api.problems import Unauthenticated
from api.query_params import MinPosition
from api.reader_directory import ReaderDirectory
from api.reading import ReadPool, Reads
from api.replays import Replays
from ledger.actors import Actor, Role
from ledger.application import Ledger, require_role
from projections.store import Tx

bearer = HTTPBearer(
    auto_error=False, description="An API key from `ledger keys create`, sent as a bearer token"
)


async def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


async def get_keys(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


async def get_readers(request: Request) -> ReaderDirectory:
    readers: ReaderDirectory = request.app.state.readers
    return readers


async def get_read_pool(request: Request) -> ReadPool:
    pool: ReadPool = request.app.state.read_pool
    return pool


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
ReadPoolDep = Annotated[ReadPool, Depends(get_read_pool)]
KeyStoreDep = Annotated[KeyStore, Depends(get_keys)]
ReadersDep = Annotated[ReaderDirectory, Depends(get_readers)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None:
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    return credentials.credentials


def current_actor(keys: KeyStoreDep, credentials: Credentials) -> Actor:
    """The party the bearer token acts as; 401 for a missing, unknown or revoked token."""
    actor = keys.authenticate(bearer_token(credentials))
    if actor is None:
        raise Unauthenticated("the bearer token is unknown or revoked")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def log_read(request: Request, actor: Actor) -> None:
    """Auditors' and admins' reads are logged before they are answered (unlogged: no answer)."""
    if actor.role in LOGGED_ROLES:
        audit_reads: AuditReadLog = request.app.state.audit_reads
        audit_reads.record(actor, request.method, request.url.path, request.url.query)


def reads_as(*roles: Role) -> Any:
    """A query route's reads (`Reads`) for one of `roles`. Its blocking work runs in one trip to
    a worker thread, where, before anything is read and on the connection that will read, the
    bearer token is checked against the keys as they are now (401 for a missing, unknown or
    revoked one), then the role (403, whatever exists), then an auditor's or admin's read is
    logged (no log, no answer); then the read models are waited for up to `min_position`."""

    async def reads(request: Request, response: Response, credentials: Credentials,
                    min_position: MinPosition = None) -> Reads:
        token = bearer_token(credentials)  # none at all: 401 at once

        def admit(tx: Tx) -> Actor:
            actor = authenticate_with(tx, token)
            if actor is None:
                raise Unauthenticated("the bearer token is unknown or revoked")
            require_role(actor, *roles)
            log_read(request, actor)
            return actor

        state = request.app.state
        settings: ApiSettings = state.api_settings
        about = (request.path_params.get("technician_id"), request.path_params.get("site_id"))
        return Reads(admit, state.read_pool, state.ledger, min_position,
                     settings.read_wait_seconds, about, response)

    return Depends(reads)


AUDITORS = (Role.AUDITOR, Role.ADMIN)
# A worker's records: the worker, their employers, primes of their sites (each scoped).
WorkerReads = Annotated[Reads, reads_as(Role.WORKER, Role.EMPLOYER, Role.PRIME_CONTRACTOR,
                                        *AUDITORS)]
# A level judgment reads the whole career, which a prime may not see.
LevelReads = Annotated[Reads, reads_as(Role.WORKER, Role.EMPLOYER, *AUDITORS)]
# A site's rows: its prime, the subcontractors on it (their own tiers and below).
SiteReads = Annotated[Reads, reads_as(Role.PRIME_CONTRACTOR, Role.EMPLOYER, *AUDITORS)]
# The prime's own business: its inbox, its sites' tap exceptions.
PrimeReads = Annotated[Reads, reads_as(Role.PRIME_CONTRACTOR, *AUDITORS)]
AuditorReads = Annotated[Reads, reads_as(*AUDITORS)]


def auditor(request: Request, actor: CurrentActor) -> Actor:
    """An auditor or admin (others 403), whose read is logged."""
    require_role(actor, *AUDITORS)
    log_read(request, actor)
    return actor


Auditor = Annotated[Actor, Depends(auditor)]


async def get_replays(request: Request) -> Replays:
    replays: Replays = request.app.state.replays
    return replays


ReplaysDep = Annotated[Replays, Depends(get_replays)]


PUBLIC_PATHS = frozenset({"/v1/health", "/v1/ready"})


async def authenticate_first(request: Request, error: Exception) -> Response:
    """FastAPI reads a JSON body before it runs dependencies, so a body that is not JSON would
    be answered 422 before the token is looked at: check the token first, as everywhere else."""
    if request.url.path not in PUBLIC_PATHS:
        try:
            credentials = await bearer(request)
            await run_in_threadpool(current_actor, await get_keys(request), credentials)
        except Unauthenticated as refused:
            return await problems.unauthenticated(request, refused)
    return await problems.validation_error(request, error)
