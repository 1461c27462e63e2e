"""The HTTP API: `create_app()` builds it; `ledger serve` runs it with uvicorn.

One `Ledger`, one key store and one reader directory per process, made in the lifespan from
settings read once (`ledger.settings`, `api.config`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from api import problems
from api.body_limit import BodySizeLimit
from api.config import ApiSettings, get_api_settings
from api.deps import authenticate_first
from api.keys import KeyStore
from api.openapi import openapi_builder
from api.reader_directory import ReaderDirectory
from api.routers import api_v1
from ledger.application import Ledger
from ledger.settings import Settings, get_settings

DESCRIPTION = """就業履歴台帳 — the CCUS attendance ledger's write side.

Every request but `/v1/health` and `/v1/ready` needs a bearer token (`ledger keys create`).
Every write answers the log `position` after it: a read model that has caught up to that
position shows the write.

Errors are `application/problem+json` (RFC 9457) with the `field` and the `rule` that refused
the request: 401 no usable token; 403 the acting party may not do this; 404 not registered,
or not visible to the acting party (the same answer, so a refusal never tells whether something
exists); 409 registered already, the wrong state, or past a deadline (直接入力 and 承認 close at
the end of the month after the work date, JST); 413 body over the limit; 422 an invalid field;
503 the database does not answer."""


def create_app(
    settings: Settings | None = None, api_settings: ApiSettings | None = None
) -> FastAPI:
    api_settings = api_settings or get_api_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = Ledger(settings or get_settings())
        keys = KeyStore(ledger.settings)
        app.state.ledger = ledger
        app.state.keys = keys
        app.state.readers = ReaderDirectory(ledger, api_settings.reader_cache_seconds)
        try:
            yield
        finally:
            keys.close()
            ledger.close()

    app = FastAPI(
        title="CCUS attendance ledger", version="1", description=DESCRIPTION, lifespan=lifespan,
        openapi_url="/v1/openapi.json", docs_url="/v1/docs", redoc_url=None,
    )
    problems.install(app)
    app.add_exception_handler(RequestValidationError, authenticate_first)
    app.add_middleware(BodySizeLimit, max_bytes=api_settings.max_body_bytes)
    app.include_router(api_v1)
    app.openapi = openapi_builder(app)  # type: ignore[method-assign]
    return app
