"""Dependencies: what a route needs, named in its signature (`CurrentActor`, `LedgerDep`, …)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api import problems
from api.keys import KeyStore
from api.problems import Unauthenticated
from api.reader_directory import ReaderDirectory
from ledger.actors import Actor
from ledger.application import Ledger

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


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
KeyStoreDep = Annotated[KeyStore, Depends(get_keys)]
ReadersDep = Annotated[ReaderDirectory, Depends(get_readers)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def current_actor(keys: KeyStoreDep, credentials: Credentials) -> Actor:
    """The party the bearer token acts as; 401 for a missing, unknown or revoked token."""
    if credentials is None:
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    actor = keys.authenticate(credentials.credentials)
    if actor is None:
        raise Unauthenticated("the bearer token is unknown or revoked")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


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
