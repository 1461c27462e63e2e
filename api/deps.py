"""Dependencies: what a route needs, named in its signature (`CurrentActor`, `LedgerDep`, …)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api import problems
from api.config import ApiSettings
from api.problems import Unauthenticated
from api.query_params import MinPosition
from api.reader_directory import ReaderDirectory
from api.reading import ReadPool, Reads
from api.replays import Replays
from api.write_scopes import check_write_scope, needs_check
from ledger.actors import Actor, Role
from ledger.application import Ledger, require_role
from ledger.errors import NotPermitted
from ledger.privacy import SEES_EVERYTHING
from ledger.storage.audit_reads import AuditReadLog
from ledger.storage.keys import ApiKey, KeyStore, authenticate_with
from projections.store import Tx

bearer = HTTPBearer(
    auto_error=False,
    description="An API key (`POST /v1/keys`, or `ledger keys create`), sent as a bearer token",
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


UNKNOWN_TOKEN = "the bearer token is unknown, revoked or expired"


async def current_actor(request: Request, keys: KeyStoreDep, credentials: Credentials) -> Actor:
    """The party the bearer token acts as (401 for a missing, unknown, revoked or expired
    token); a scoped key's or a site manager's write is checked against its scope first."""
    actor = await run_in_threadpool(keys.authenticate, bearer_token(credentials))
    if actor is None:
        raise Unauthenticated(UNKNOWN_TOKEN)
    if (needs_check(actor) and request.method not in ("GET", "HEAD")
            and not request.url.path.startswith(UNGATED)):
        try:
            body = await request.json() if await request.body() else {}
        except ValueError:  # not JSON: the route's own validation answers it
            body = {}
        await run_in_threadpool(check_write_scope, request.app.state.ledger, actor,
                                request.url.path, request.path_params, body)
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
# Keys check their own powers (ledger.key_powers); an as-of replay is a read for auditors only.
UNGATED = ("/v1/keys", "/v1/audit/")


def current_key(keys: KeyStoreDep, credentials: Credentials) -> ApiKey:
    """The key the bearer token is (for `/v1/keys`, where the key itself issues)."""
    key = keys.authenticate_key(bearer_token(credentials))
    if key is None:
        raise Unauthenticated(UNKNOWN_TOKEN)
    return key


CurrentKey = Annotated[ApiKey, Depends(current_key)]


def log_read(request: Request, actor: Actor) -> None:
    """Auditors' and admins' reads (those who read without a scope) are logged before they are
    answered (unlogged: no answer)."""
    if actor.role in SEES_EVERYTHING:
        audit_reads: AuditReadLog = request.app.state.audit_reads
        audit_reads.record(actor, request.method, request.url.path, request.url.query)


def admitted(request: Request, actor: Actor | None, roles: tuple[Role, ...],
             whole_careers: bool = False) -> Actor:
    """A reader as a query route admits it (`reads_as`; the web app's pages too): 401 for no
    active key, 403 for another role (or, with `whole_careers`, a key scoped to sites), and an
    auditor's or admin's read logged."""
    if actor is None:
        raise Unauthenticated(UNKNOWN_TOKEN)
    require_role(actor, *roles)
    if whole_careers and actor.scope.sites is not None:
        raise NotPermitted("actor", "key.scope.sites",
                           "a key scoped to sites reads no whole career")
    log_read(request, actor)
    return actor


def reads_as(*roles: Role, whole_careers: bool = False) -> Any:
    """A query route's reads (`Reads`) for one of `roles`. Its blocking work runs in one trip to
    a worker thread, where, before anything is read and on the connection that will read, the
    bearer token is checked against the keys as they are now (401 for a missing, unknown,
    revoked or expired one), then the role (403, whatever exists; with `whole_careers`, also a
    key scoped to sites, which may not read beyond them), then an auditor's or admin's read is
    logged (no log, no answer); then the read models are waited for up to `min_position`."""

    async def reads(request: Request, response: Response, credentials: Credentials,
                    min_position: MinPosition = None) -> Reads:
        token = bearer_token(credentials)  # none at all: 401 at once

        def admit(tx: Tx) -> Actor:
            return admitted(request, authenticate_with(tx, token), roles, whole_careers)

        state = request.app.state
        settings: ApiSettings = state.api_settings
        about = (request.path_params.get("technician_id"), request.path_params.get("site_id"))
        return Reads(admit, state.read_pool, state.ledger, min_position,
                     settings.read_wait_seconds, about, response)

    return Depends(reads)


AUDITORS = SEES_EVERYTHING
# Who reads what, by kind of read (the web app's pages admit their readers with the same):
# a worker's records: the worker, their employers, primes of their sites (each scoped);
WORKER_READERS = (Role.WORKER, Role.EMPLOYER, Role.PRIME_CONTRACTOR, *AUDITORS)
# a level judgment reads the whole career, which a prime (or a key scoped to sites) may not see;
LEVEL_READERS = (Role.WORKER, Role.EMPLOYER, *AUDITORS)
# a site's rows: its prime and the prime's site managers of it, the subcontractors on it (their
# own tiers and below);
SITE_READERS = (Role.PRIME_CONTRACTOR, Role.SITE_MANAGER, Role.EMPLOYER, *AUDITORS)
# the prime's own business: its inbox, its sites' tap exceptions (a site manager: its sites');
PRIME_READERS = (Role.PRIME_CONTRACTOR, Role.SITE_MANAGER, *AUDITORS)
# the prime's bills (現場利用料) are the business's: not a site manager's (nor a scoped key's).
SITE_FEE_READERS = (Role.PRIME_CONTRACTOR, *AUDITORS)
WorkerReads = Annotated[Reads, reads_as(*WORKER_READERS)]
LevelReads = Annotated[Reads, reads_as(*LEVEL_READERS, whole_careers=True)]
SiteReads = Annotated[Reads, reads_as(*SITE_READERS)]
PrimeReads = Annotated[Reads, reads_as(*PRIME_READERS)]
AuditorReads = Annotated[Reads, reads_as(*AUDITORS)]
SiteFeeReads = Annotated[Reads, reads_as(*SITE_FEE_READERS)]


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


# /v1/phone-taps: a passkey signs each tap instead of a key (api.routers.phone_taps)
PUBLIC_PATHS = frozenset({"/v1/health", "/v1/ready", "/v1/phone-taps"})
PUBLIC_PREFIXES = ("/v1/seals",)  # signed heads, for monitors (api.routers.seals)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


async def authenticate_first(request: Request, error: Exception) -> Response:
    """FastAPI reads a JSON body before it runs dependencies, so a body that is not JSON would
    be answered 422 before the token is looked at: check the token first, as everywhere else."""
    if not is_public(request.url.path):
        try:
            token = bearer_token(await bearer(request))
            if await run_in_threadpool((await get_keys(request)).authenticate, token) is None:
                raise Unauthenticated(UNKNOWN_TOKEN)
        except Unauthenticated as refused:
            return await problems.unauthenticated(request, refused)
    return await problems.validation_error(request, error)
