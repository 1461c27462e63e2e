"""The HTTP API: `create_app()` builds it; `ledger serve` runs it with uvicorn.

One `Ledger`, one key store, one reader directory and one pool of read-model connections per
process, made in the lifespan from settings read once (`ledger.settings`, `api.config`). The
lifespan also starts the projection (a background thread following the log into the read models)
and, when LEDGER_API_SCHEDULER is on, the nightly jobs' scheduler; both stop on shutdown.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from api import problems, web
from api.body_limit import BodySizeLimit
from api.config import ApiSettings, get_api_settings
from api.deps import authenticate_first
from api.logs import RequestIds, configure_logging
from api.metrics import RequestMetrics
from api.openapi import openapi_builder
from api.reader_directory import ReaderDirectory
from api.reading import ReadPool
from api.replays import Replays
from api.routers import PREFIX, ROUTERS
from api.routers.metrics import router as metrics_router
from api.web.sessions import WebSessions
from ledger.application import Ledger
from ledger.settings import Settings, get_settings
from ledger.storage.audit_reads import AuditReadLog
from ledger.storage.keys import KeyStore
from projections.jobs.scheduler import start_scheduler
from projections.jobs.seal import prepare_seals
from projections.leader import ProjectionService
from projections.store import ReadStore

DESCRIPTION = """就業履歴台帳 — the CCUS attendance ledger.

Every request but `/v1/health`, `/v1/ready` and the signed seals (`/v1/seals…`) needs a bearer
token (`POST /v1/keys`, or `ledger keys create` to bootstrap); a revoked or expired one is
refused (401).
Every write answers the log `position` after it; a query given it as `min_position` waits (a
few seconds at most) until the read models show the write, else answers 503 with Retry-After.
Lists are paged: `limit` (≤ 1000) and the opaque `next_cursor` of the previous page.

Who reads what (DESIGN §2): a worker their own records; an employer the records it is the
employer of; a prime contractor the records on its own sites while the site is active with the
worker on its roster, and on its active sites every subcontractor's workers (a closed site's
settlement totals and pending decisions stay with it); a subcontractor its own tier and the
tiers below it; a site manager (現場管理者) its sites' rows and exceptions; a key scoped to
sites or workers (管理者) only those; auditors and admins everything, and each of their reads
is logged. Reader keys read nothing.

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
        if not ledger.settings.is_postgres:
            # The first connection to a fresh SQLite file switches it to WAL, which fails when
            # another connection races it: make that switch here, before any thread starts.
            ledger.log_position()
        state = app.state
        state.api_settings = api_settings
        state.ledger, state.keys = ledger, KeyStore(ledger.settings)
        state.readers = ReaderDirectory(ledger, api_settings.reader_cache_seconds)
        state.read_pool = ReadPool(ledger.settings, api_settings.read_connections,
                                   api_settings.read_connection_wait_seconds)
        state.audit_reads = AuditReadLog(ledger.settings)
        state.web_sessions = WebSessions(ledger.settings)
        state.replays = Replays(ledger, api_settings.replay_dir or ledger.settings.replay_home,
                                keep=timedelta(hours=ledger.settings.replay_keep_hours),
                                at_once=api_settings.replays_at_once)
        state.replays.start()
        state.projection = ProjectionService(ledger, ledger.settings) if (
            api_settings.projection) else None
        if state.projection is not None:
            state.projection.start()
        jobs_store = ReadStore(ledger.settings)  # start_scheduler's; each run opens its own
        prepare_seals(ledger, jobs_store)  # the key file on first start; a witness made whole
        state.scheduler = start_scheduler(ledger, jobs_store, ledger.settings) if (
            api_settings.scheduler) else None
        gc.collect()
        gc.freeze()  # what startup made lives as long as the app: keep it out of every GC pass
        try:
            yield
        finally:
            gc.unfreeze()
            if state.scheduler is not None:
                state.scheduler.shutdown(wait=True)
            if state.projection is not None:
                state.projection.stop()
            state.replays.stop()
            for resource in (jobs_store, state.read_pool, state.audit_reads, state.keys,
                             state.web_sessions, ledger):
                resource.close()

    app = FastAPI(
        title="CCUS attendance ledger", version="1", description=DESCRIPTION, lifespan=lifespan,
        openapi_url="/v1/openapi.json", docs_url="/v1/docs", redoc_url=None,
    )
    problems.install(app)
    app.add_exception_handler(RequestValidationError, authenticate_first)
    app.add_middleware(BodySizeLimit, max_bytes=api_settings.max_body_bytes)
    app.add_middleware(RequestMetrics, prefix=PREFIX)
    app.add_middleware(RequestIds)  # outermost: every line a request causes names it
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX)
    web.mount(app)  # the web app under /app (api/web)
    app.include_router(metrics_router)  # at /metrics, where scrapers look by default
    app.openapi = openapi_builder(app)  # type: ignore[method-assign]
    return app


def served_app() -> FastAPI:
    """The app `ledger serve` runs, in each worker: its logs configured first (LEDGER_LOG_*)."""
    configure_logging()
    return create_app()
