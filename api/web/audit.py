"""監査: the events behind any record (the API's audit trail), and the ledger as of a moment
(the API's as-of replay: the log up to then, projected aside), for auditors and admins."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, NoReturn
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from api.deps import AUDITORS
from api.replays import Replays
from api.routers.audit import list_record_events, read_replay, replay_career
from api.schemas.audit import ReplayCreate, ReplayJobPublic
from api.web.deps import WHOLE_LIST, SessionDep, ledger_of, reads_for
from api.web.render import render
from api.web.sessions import WebSession
from ledger.application import require_role
from ledger.clock import JST
from ledger.errors import InvalidValue

router = APIRouter()
REPLAY_ID = re.compile("[0-9a-f]{32}")


@router.get("/audit")
async def audit_page(request: Request, session: SessionDep, technician_id: str = "",
                     site_id: str = "", work_date: date | None = None,
                     as_of_text: Annotated[str, Query(alias="as_of")] = "",
                     replay_id: str = "") -> Response:
    """就業履歴の根拠: a record's events; with `as_of`, the worker's day as it stood then (a
    replay job is started, and the page sent on to follow it: reloading it starts no other)."""
    require_role(session.actor, *AUDITORS)
    as_of = moment_of(as_of_text)
    context: dict[str, Any] = {"technician_id": technician_id, "site_id": site_id,
                               "work_date": work_date, "as_of": as_of, "events": None,
                               "replay": None}
    if technician_id and site_id and work_date is not None:
        context["events"] = (await list_record_events(
            technician_id, site_id, work_date, reads_for(
                request, session, *AUDITORS, about=(technician_id, site_id)),
            ledger_of(request), WHOLE_LIST)).items
        if as_of is not None and not replay_id:
            try:
                body = ReplayCreate(as_of=as_of, technician_id=technician_id,
                                    date_from=work_date, date_to=work_date)
            except ValidationError as invalid:
                raise_invalid(invalid)
            job = await replay_career(body, reads_for(request, session, *AUDITORS),
                                      replays_of(request), Response())
            query = urlencode({"technician_id": technician_id, "site_id": site_id,
                               "work_date": work_date.isoformat(), "as_of": as_of_text,
                               "replay_id": job.replay_id})
            return RedirectResponse(f"/app/audit?{query}", status_code=303)
    if replay_id:
        context["replay"] = await replay_of(request, session, replay_id)
    return render(request, "audit.html", context)


@router.get("/audit/replays/{replay_id}")
async def audit_replay(request: Request, session: SessionDep, replay_id: str) -> Response:
    """A replay job's progress, then its answer: the part of the audit page that refreshes
    itself (htmx) until the job has ended."""
    require_role(session.actor, *AUDITORS)
    job = await replay_of(request, session, replay_id)
    return render(request, "audit_replay.html", {"replay": job})


async def replay_of(request: Request, session: WebSession, replay_id: str) -> ReplayJobPublic:
    if not REPLAY_ID.fullmatch(replay_id):  # as the API's path parameter refuses it
        raise InvalidValue("replay_id", "web.audit.replay_id", f"{replay_id!r} is no replay")
    return await read_replay(replay_id, reads_for(request, session, *AUDITORS),
                             replays_of(request))


def replays_of(request: Request) -> Replays:
    replays: Replays = request.app.state.replays
    return replays


def moment_of(text: str) -> datetime | None:
    """The form's datetime-local (JST when it names no offset); empty: none."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue("as_of", "web.audit.as_of", f"{text!r} is no date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=JST)


def raise_invalid(invalid: ValidationError) -> NoReturn:
    first = invalid.errors()[0]
    raise InvalidValue(str(first["loc"][-1]), "web.audit", str(first["msg"]))
