"""What a page needs: the signed-in session (its actor, its form token), the API's reads and
writes as that actor, and the cookie's flags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Form, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import admitted
from api.paging import MAX_LIMIT, Paging
from api.problems import Unauthenticated
from api.reading import Reads
from api.web.sessions import WebSession, WebSessions
from api.write_scopes import check_write_scope, needs_check
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.errors import NotPermitted

T = TypeVar("T")
SESSION_COOKIE = "ledger_session"
SIGNIN_COOKIE = "ledger_signin"  # the sign-in form's own token (before there is a session)
WHOLE_LIST = Paging(MAX_LIMIT, None, "web")  # a page shows a list whole (≤ 1,000 rows)


def web_sessions(request: Request) -> WebSessions:
    sessions: WebSessions = request.app.state.web_sessions
    return sessions


async def current_session(request: Request) -> WebSession:
    """The signed-in session (else: to the sign-in page)."""
    session = await run_in_threadpool(web_sessions(request).resolve,
                                      request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise Unauthenticated("no session")
    request.state.web_session = session
    return session


SessionDep = Annotated[WebSession, Depends(current_session)]


async def checked_form(request: Request, session: SessionDep,
                       csrf_token: Annotated[str | None, Form()] = None) -> WebSession:
    """A form post: the session's own form token must come with it (CSRF), else 403."""
    if not session.csrf_matches(csrf_token):
        raise NotPermitted("csrf_token", "web.csrf", "the form's token is missing or stale: "
                           "reload the page and send it again")
    return session


FormSession = Annotated[WebSession, Depends(checked_form)]


def reads_for(request: Request, session: WebSession, *roles: Role,
              whole_careers: bool = False, about: tuple[str | None, str | None] = (None, None),
              min_position: int | None = None) -> Reads:
    """The API's `Reads` for the session's actor, admitted as the JSON route admits its
    bearer (`api.deps.admitted`: role, scope, an auditor's read logged). After a write, the
    page reads with the write's `min_position`, so it shows what it just did."""
    state = request.app.state

    def admit(_: Any) -> Actor:
        return admitted(request, session.actor, roles, whole_careers)

    return Reads(admit, state.read_pool, state.ledger, min_position,
                 state.api_settings.read_wait_seconds, about, None)


def as_written(request: Request, session: WebSession, api_path: str,
               path_params: dict[str, Any], body: dict[str, Any]) -> Actor:
    """The session's actor for a write the API would take at `api_path`: a scoped key's or a
    site manager's write is checked against its scope first, as `api.deps.current_actor` does."""
    actor = session.actor
    if needs_check(actor):
        check_write_scope(request.app.state.ledger, actor, api_path, path_params, body)
    return actor


def ledger_of(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


async def in_thread(work: Callable[[], T]) -> T:
    return await run_in_threadpool(work)


def set_cookie(request: Request, response: Response, name: str, value: str,
               max_age: int) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Secure
    when served over https, and an expiry."""
    response.set_cookie(name, value, max_age=max_age, path="/app", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


