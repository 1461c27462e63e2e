"""スマホ入場: the gate page (the site's rotating code as a QR code, and its printed day code),
the registration of a worker's phone (a passkey, by the worker's employer or an administrator)
and the phone's own page, which scans the code and sends the tap its passkey signed.

The phone's page needs no session: a tap is authorised by the passkey's signature over the tap
itself (`ledger.phone_entry`), not by a cookie, so no other site's page can make one (there is
no ambient authority to borrow) and the page reads nothing about anybody.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from api import problems
from api.routers.phone_taps import record_phone_tap, relying_party
from api.schemas.common import SiteIdPath, TechnicianIdPath
from api.schemas.phone_taps import PhoneTapCreate
from api.web.deps import SessionDep, in_thread, ledger_of
from api.web.render import render
from ledger import clock
from ledger.actors import Role
from ledger.clock import JST
from ledger.domain.gate_codes import STEP, WINDOW
from ledger.errors import InvalidValue, LedgerError, NotPermitted, UnknownReference

router = APIRouter()
Direction = Annotated[str | None, Query(pattern="^(in|out)$")]


def qr_svg(token: str) -> str:
    return str(segno.make(token, error="m").svg_inline(scale=6, border=2))


@router.get("/gate")
async def reader_gate(request: Request, session: SessionDep) -> Response:
    """A gate reader's key lands here: its registered site's gate code (a retired reader's, or
    anyone else's: the menu)."""
    actor = session.actor
    if actor.role is not Role.READER:
        return RedirectResponse("/app/", status_code=303)
    try:
        reader = await in_thread(lambda: ledger_of(request).reader(actor.id))
    except UnknownReference:
        reader = None
    if reader is None or reader.retired or reader.site_id is None:
        raise NotPermitted("actor", "gate_code.reader", "this reader stands at no site's gate")
    return RedirectResponse(f"/app/sites/{reader.site_id}/gate", status_code=303)


@router.get("/sites/{site_id}/gate")
async def gate_page(request: Request, site_id: SiteIdPath, session: SessionDep,
                    direction: Direction = None, fragment: bool = False) -> Response:
    """現場コード: the QR code a tablet at the gate shows, renewed every STEP seconds. It shows
    no personal data: the site's ID, the direction and the code."""
    code = await in_thread(lambda: ledger_of(request).gate_code(site_id, session.actor,
                                                                 direction))
    context = {"site_id": site_id, "direction": direction, "code": code, "svg": qr_svg(code),
               "step": int(STEP.total_seconds()), "window": int(WINDOW.total_seconds()),
               "today": clock.now().astimezone(JST).date()}
    return render(request, "gate_code.html" if fragment else "gate.html", context)


@router.get("/sites/{site_id}/gate/printed")
async def printed_gate_page(request: Request, site_id: SiteIdPath, session: SessionDep,
                            day: date | None = None, direction: Direction = None) -> Response:
    """The printed fallback code of one day, for a site with no screen at its gate."""
    day = day or clock.now().astimezone(JST).date()
    code = await in_thread(lambda: ledger_of(request).printed_gate_code(
        site_id, day, session.actor, direction))
    return render(request, "gate_printed.html", {
        "site_id": site_id, "direction": direction, "day": day, "code": code,
        "svg": qr_svg(code)})


@router.get("/workers/{technician_id}/phone")
async def phone_registration_page(request: Request, technician_id: TechnicianIdPath,
                                  session: SessionDep) -> Response:
    """スマホの登録: with the worker's phone in hand, their employer (or an administrator)
    signed in on it makes the phone's passkey."""
    rp_id, _ = relying_party(request)
    options = await in_thread(lambda: ledger_of(request).phone_registration_options(
        technician_id, rp_id, session.actor))
    return render(request, "phone_register.html", {
        "technician_id": technician_id, "options": options})


@router.post("/workers/{technician_id}/phone")
async def register_phone(request: Request, technician_id: TechnicianIdPath,
                         session: SessionDep, body: Annotated[dict[str, Any], Body()]) -> Response:
    """The passkey the phone made (JSON, sent by the page's script with the form token)."""
    if not session.csrf_matches(body.get("csrf_token")):
        raise NotPermitted("csrf_token", "web.csrf", "the form's token is missing or stale: "
                           "reload the page and send it again")
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise InvalidValue("credential", "credential.format", "is not a WebAuthn credential")
    rp_id, origin = relying_party(request)
    try:
        reader_id = await in_thread(lambda: ledger_of(request).register_phone(
            technician_id, credential, rp_id, origin, session.actor))
    except LedgerError as error:
        return await problems.ledger_error(request, error)
    return JSONResponse({"reader_id": reader_id})


@router.get("/phone")
async def phone_page(request: Request) -> Response:
    """The worker's phone: scan the gate's code, choose 入場 or 退場, unlock the passkey."""
    return render(request, "phone.html", {})


@router.post("/phone/taps")
async def phone_tap(request: Request, body: Annotated[dict[str, Any], Body()]) -> Response:
    """A tap the phone's passkey signed (JSON: payload, sent_at, credential): the receipt, or
    the API's problem+json (the page's script reads either); the same as `POST /v1/phone-taps`."""
    try:
        payload, credential, sent_at = _tap_body(body)
        # checked by the ledger as the route's body is (a too long payload named the same way)
        tap = PhoneTapCreate.model_construct(payload=payload, sent_at=sent_at,
                                             credential=credential)
        answer = await in_thread(lambda: record_phone_tap(request, ledger_of(request), tap))
    except LedgerError as error:
        return await problems.ledger_error(request, error)
    return JSONResponse(answer.model_dump())


def _tap_body(body: dict[str, Any]) -> tuple[str, dict[str, Any], datetime]:
    payload, credential = body.get("payload"), body.get("credential")
    if not isinstance(payload, str):
        raise InvalidValue("payload", "payload.required", "must be the signed tap's text")
    if not isinstance(credential, dict):
        raise InvalidValue("credential", "credential.format", "is not a WebAuthn assertion")
    try:
        sent_at = datetime.fromisoformat(str(body.get("sent_at")).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue("sent_at", "sent_at.format", "is not an ISO 8601 time") from None
    return payload, credential, sent_at
