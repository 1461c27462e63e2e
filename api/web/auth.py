"""Sign-in with an API key, sign-out, and the start page of each role."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.web.deps import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    FormSession,
    SessionDep,
    reads_for,
    set_cookie,
    web_sessions,
)
from api.web.render import render
from api.web.sessions import SESSION_LIFETIME
from ledger import clock
from ledger.actors import Role
from ledger.storage.keys import KeyStore
from projections.queries.business_sites import BusinessSite, business_sites

router = APIRouter()
SIGNIN_SECONDS = 3600


@router.get("/signin")
def signin(request: Request) -> Response:
    """ログイン: the form, with a fresh form token in a cookie of its own (a login CSRF)."""
    return signin_page(request)


def signin_page(request: Request, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "signin.html", {"csrf_token": token, "error": error},
                      status_code=200 if error is None else 401)
    set_cookie(request, response, SIGNIN_COOKIE, token, SIGNIN_SECONDS)
    return response


@router.post("/signin")
async def sign_in(request: Request, api_key: Annotated[str, Form()],
                  csrf_token: Annotated[str, Form()]) -> Response:
    sent = request.cookies.get(SIGNIN_COOKIE)
    if sent is None or not hmac.compare_digest(sent, csrf_token):
        return signin_page(request, "フォームの有効期限が切れました。もう一度入力してください。")
    keys: KeyStore = request.app.state.keys
    key = await run_in_threadpool(keys.authenticate_key, api_key.strip())
    if key is None:
        return signin_page(request, "キーが正しくないか、失効しています。")
    secret, session = await run_in_threadpool(web_sessions(request).start, key)
    # A gate reader's key (a tablet at the gate) opens its site's gate code and nothing else:
    # every other page's role check refuses the reader role.
    response = RedirectResponse("/app/gate" if key.role is Role.READER else "/app/",
                                status_code=303)
    max_age = max(int((session.expires_at - clock.now()).total_seconds()), 1)
    set_cookie(request, response, SESSION_COOKIE, secret, min(max_age,
                                                              int(SESSION_LIFETIME.total_seconds())))
    response.delete_cookie(SIGNIN_COOKIE, path="/app")
    return response


@router.post("/signout")
async def sign_out(request: Request, session: FormSession) -> Response:
    """ログアウト: the session ends server-side; the cookie is cleared."""
    await run_in_threadpool(web_sessions(request).end, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/app/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/app", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
    return response


@router.get("/")
async def home(request: Request, session: SessionDep) -> Response:
    """メニュー: the pages for the session's role, and a business's own sites."""
    actor = session.actor
    if actor.role is Role.READER:
        return RedirectResponse("/app/gate", status_code=303)
    sites: list[BusinessSite] = []
    if actor.role in (Role.PRIME_CONTRACTOR, Role.EMPLOYER, Role.SITE_MANAGER):
        found = await reads_for(request, session, actor.role).run(
            lambda read: business_sites(read.tx, actor.id))
        sites = [s for s in found if actor.scope.covers_site(s.site_id) and (
            s.prime or actor.role is not Role.SITE_MANAGER)]
    return render(request, "home.html", {"actor": actor, "sites": sites})


@router.get("/go")
def go(session: SessionDep, site_id: str = "", technician_id: str = "") -> Response:
    """The menu's "open": to a site's today page or a worker's page (each checks who may)."""
    if site_id.isdigit():
        return RedirectResponse(f"/app/sites/{site_id}/today", status_code=303)
    if technician_id.isdigit():
        return RedirectResponse(f"/app/workers/{technician_id}", status_code=303)
    return RedirectResponse("/app/", status_code=303)
