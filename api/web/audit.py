"""監査: the events behind any record (the API's audit trail), and the ledger as of a moment
(the API's as-of replay: the log up to then, projected aside), for auditors and admins."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError

from api.deps import AUDITORS, auditor
from api.routers.audit import list_record_events, replay_career
from api.schemas.audit import ReplayCreate
from api.web.deps import WHOLE_LIST, SessionDep, in_thread, ledger_of, reads_for
from api.web.render import render
from ledger.actors import Actor
from ledger.application import require_role
from ledger.clock import JST
from ledger.errors import InvalidValue

router = APIRouter()


@router.get("/audit")
async def audit_page(request: Request, session: SessionDep, technician_id: str = "",
                     site_id: str = "", work_date: date | None = None,
                     as_of_text: Annotated[str, Query(alias="as_of")] = "") -> Response:
    """就業履歴の根拠: a record's events; with `as_of`, the worker's day as it stood then."""
    require_role(session.actor, *AUDITORS)
    as_of = moment_of(as_of_text)
    context: dict[str, Any] = {"technician_id": technician_id, "site_id": site_id,
                               "work_date": work_date, "as_of": as_of, "events": None,
                               "then": None}
    if technician_id and site_id and work_date is not None:
        context["events"] = (await list_record_events(
            technician_id, site_id, work_date, reads_for(
                request, session, *AUDITORS, about=(technician_id, site_id)),
            ledger_of(request), WHOLE_LIST)).items
        if as_of is not None:
            try:
                body = ReplayCreate(as_of=as_of, technician_id=technician_id,
                                    date_from=work_date, date_to=work_date)
            except ValidationError as invalid:
                raise_invalid(invalid)

            def replay() -> Any:
                actor: Actor = auditor(request, session.actor)
                return replay_career(body, actor, request.app.state.replays)

            context["then"] = await in_thread(replay)
    return render(request, "audit.html", context)


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
