"""The web app as a sub-application mounted at /app, sharing the API's state (its `Ledger`, key
store, read pool): its errors are pages, not problem+json, with the API's status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import problems
from api.web import audit, auth, employer, keys, phone, prime, receipt, site, worker
from api.web.render import render
from ledger.errors import LedgerError

PREFIX = "/app"
STATIC = Path(__file__).parent / "static"


async def page_error(request: Request, error: Exception) -> Response:
    """The API's answer to the same error, as a page: its status, its title and detail (which
    never tell whether something hidden exists: the API's `hidden` answers)."""
    if isinstance(error, problems.Unauthenticated):
        return RedirectResponse(f"{PREFIX}/signin", status_code=303)
    if isinstance(error, LedgerError):
        answer = await problems.ledger_error(request, error)
    elif isinstance(error, RequestValidationError):
        answer = await problems.validation_error(request, error)
    elif isinstance(error, StarletteHTTPException):
        answer = await problems.http_error(request, error)
    elif isinstance(error, problems.ProjectionBehind):
        answer = await problems.projection_behind(request, error)
    else:
        answer = await problems.server_error(request, error)
    body = orjson.loads(bytes(answer.body))
    return render(request, "error.html", {"problem": body}, status_code=answer.status_code)


# Pages hold personal data: not framed by another site, no script or style from elsewhere (htmx
# is served from here; its eval and inline styles are off, see base.html), nothing cached.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                               "base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


async def page_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                       ) -> Response:
    response = await call_next(request)
    response.headers.update(PAGE_HEADERS)
    if not request.url.path.startswith(f"{PREFIX}/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def create_web_app(parent: FastAPI) -> FastAPI:
    web = FastAPI(title="就業履歴台帳", docs_url=None, redoc_url=None, openapi_url=None)
    web.middleware("http")(page_headers)
    web.state = parent.state  # the API's Ledger, keys, read pool, made in its lifespan
    for router in (auth.router, prime.router, site.router, worker.router, receipt.router,
                   employer.router, audit.router, keys.router, phone.router):
        web.include_router(router)
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    for error in (LedgerError, RequestValidationError, StarletteHTTPException,
                  problems.Unauthenticated, problems.ProjectionBehind, Exception):
        web.add_exception_handler(error, page_error)
    return web


def mount(app: FastAPI) -> None:
    app.mount(PREFIX, create_web_app(app), name="web")
