"""キーの管理: the keys one oversees, issuing one within one's scope (its token shown once, on
this page only) and revoking one — through the API's own key routes and powers
(`api.routers.keys`, `ledger.key_powers`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError

from api.routers.keys import issue_key, list_keys, revoke_key
from api.schemas.keys import IssuedKeyPublic, KeyCreate
from api.web.deps import WHOLE_LIST, FormSession, SessionDep, in_thread
from api.web.render import render
from api.web.sessions import WebSession
from ledger import clock
from ledger.clock import JST
from ledger.errors import InvalidValue
from ledger.storage.keys import ApiKey, KeyStore

router = APIRouter()
ROLE_CHOICES = ("site_manager", "employer", "prime_contractor", "worker", "reader", "auditor",
                "admin")


def own_key(request: Request, session: WebSession) -> ApiKey:
    keys: KeyStore = request.app.state.keys
    return keys.get(session.key_id)


async def keys_page(request: Request, session: WebSession,
                    issued: IssuedKeyPublic | None = None, notice: str = "") -> Response:
    def listed() -> Any:
        return list_keys(request, own_key(request, session), request.app.state.keys,
                         request.app.state.read_pool, WHOLE_LIST)

    keys = await in_thread(listed)
    today = clock.now().astimezone(JST).date()
    return render(request, "keys.html", {
        "keys": keys.items, "issued": issued, "notice": notice, "roles": ROLE_CHOICES,
        "default_expiry": (today + timedelta(days=90)).isoformat(),
        "own_key_id": session.key_id})


@router.get("/keys")
async def keys_list(request: Request, session: SessionDep) -> Response:
    """The keys I oversee (admins, business keys, site managers: reader keys; auditors read)."""
    return await keys_page(request, session)


@router.post("/keys")
async def keys_issue(
    request: Request, session: FormSession, role: Annotated[str, Form()],
    subject_id: Annotated[str, Form()], expires_on: Annotated[date, Form()],
    holder: Annotated[str, Form()] = "", sites: Annotated[str, Form()] = "",
    approves: Annotated[bool, Form()] = False,
) -> Response:
    """Issue a key: its token is on the answer only, once."""
    listed = [s for s in sites.replace("、", ",").replace(" ", ",").split(",") if s]
    try:
        body = KeyCreate.model_validate({
            "role": role, "subject_id": subject_id.strip(), "holder": holder.strip() or None,
            "scope": {"sites": listed, "approves": approves} if listed else None,
            # the key lasts to the end of the day chosen (JST)
            "expires_at": datetime.combine(expires_on + timedelta(days=1), time(0), JST)})
    except ValidationError as invalid:
        first = invalid.errors()[0]
        raise InvalidValue(str(first["loc"][-1]), "web.keys", str(first["msg"])) from None

    def issue() -> IssuedKeyPublic:
        return issue_key(body, own_key(request, session), request.app.state.keys,
                         request.app.state.read_pool)

    issued = await in_thread(issue)
    return await keys_page(request, session, issued=issued)


@router.post("/keys/{key_id}/revoke")
async def keys_revoke(request: Request, key_id: str, session: FormSession) -> Response:
    """Revoke a key I oversee: refused from the next request on."""
    def revoke() -> Any:
        return revoke_key(key_id, own_key(request, session), request.app.state.keys,
                          request.app.state.read_pool)

    revoked = await in_thread(revoke)
    return await keys_page(request, session, notice=f"キー {revoked.key_id} を失効させました")
