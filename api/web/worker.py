"""技能者のマイページ: my days this month and in total per trade, the level now and what is missing
for the next, my pending entries with their last day, and 直接入力 of a forgotten day (the worker,
or their employer as 入力代行)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError

from api.deps import LEVEL_READERS, WORKER_READERS
from api.reading import Reading
from api.routers.careers import get_career_summary, list_work_records
from api.routers.manual_entries import request_manual_entry
from api.schemas.common import TechnicianIdPath
from api.schemas.requests import ManualEntryCreate
from api.web.deps import (
    WHOLE_LIST,
    FormSession,
    SessionDep,
    as_written,
    in_thread,
    ledger_of,
    reads_for,
)
from api.web.render import render
from api.web.sessions import WebSession
from ledger import clock
from ledger.clock import JST, approval_deadline
from ledger.domain.base import Position
from projections.queries.levels import LevelJudgment, level_judgments
from projections.queries.scopes import worker_scope
from projections.records import RecordStatus

router = APIRouter()
EVER = date(1900, 1, 1)


async def worker_context(request: Request, session: WebSession, technician_id: str,
                         after: int | None = None) -> dict[str, Any]:
    today = clock.now().astimezone(JST).date()
    first = today.replace(day=1)
    about = (technician_id, None)

    def reads(*roles: Any, whole: bool = False) -> Any:
        return reads_for(request, session, *roles, whole_careers=whole, about=about,
                         min_position=after)

    month = await get_career_summary(technician_id, first, today, reads(*WORKER_READERS))
    total = await get_career_summary(technician_id, EVER, today, reads(*WORKER_READERS))
    levels = None
    if session.actor.role in LEVEL_READERS and session.actor.scope.sites is None:
        levels = await reads(*LEVEL_READERS, whole=True).run(
            lambda read: judged(read, technician_id))
    since = (first - timedelta(days=1)).replace(day=1)  # a pending entry may be last month's
    records = await list_work_records(technician_id, since, today, reads(*WORKER_READERS),
                                      WHOLE_LIST)
    pending = [(r, approval_deadline(r.work_date).astimezone(JST).date() - timedelta(days=1))
               for r in records.items if r.status is RecordStatus.PENDING]
    return {"technician_id": technician_id, "today": today, "month": month, "total": total,
            "levels": levels, "records": records, "pending": pending,
            "month_roles": roles_by_trade(records.items, first),
            "mine": [j for j in levels or [] if worked_in(j)],
            "others": [j for j in levels or [] if not worked_in(j)],
            "positions": [p.value for p in Position]}


def roles_by_trade(records: list[Any], first: date) -> dict[str, dict[str, int]]:
    """This month's 職長 and 班長 days per trade: counted records from `first` on, a day once
    whatever the number of sites (as level judgment counts days)."""
    days: dict[str, dict[str, set[date]]] = {}
    for record in records:
        if record.status is RecordStatus.COUNTED and record.work_date >= first and (
                record.position in (Position.FOREMAN.value, Position.TEAM_LEADER.value)):
            by_role = days.setdefault(record.trade or "", {})
            by_role.setdefault(record.position, set()).add(record.work_date)
    return {trade: {role: len(dates) for role, dates in roles.items()}
            for trade, roles in days.items()}


def judged(read: Reading, technician_id: str) -> list[LevelJudgment]:
    """The API's level read (`list_level_judgments`: its scope check, its query), kept as the
    query's dataclasses: the page says each gap in Japanese from its figures. Trades the worker
    has worked or been certified in, and any above level 1, first; the others after."""
    worker_scope(read.tx, read.actor, technician_id)
    judgments = level_judgments(read.tx, technician_id, None)
    return sorted(judgments, key=lambda j: (not worked_in(j), j.trade))


def worked_in(judgment: LevelJudgment) -> bool:
    figures = judgment.figures
    return judgment.level > 1 or figures.trade_work_days > 0 or figures.certified.work_days > 0


@router.get("/workers/{technician_id}")
async def my_page(request: Request, technician_id: TechnicianIdPath,
                  session: SessionDep) -> Response:
    """マイページ (the worker; their employer sees what the worker sees)."""
    return render(request, "worker.html", await worker_context(request, session, technician_id))


@router.post("/workers/{technician_id}/manual-entries")
async def enter_day(
    request: Request, technician_id: TechnicianIdPath, session: FormSession,
    site_id: Annotated[str, Form()], work_date: Annotated[str, Form()],
    employer_business_id: Annotated[str, Form()], trade: Annotated[str, Form()],
    position: Annotated[str, Form()], work_content: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    """直接入力 through the API's own route function: the prime approves it later."""
    def write() -> tuple[str, bool]:
        try:
            body = ManualEntryCreate.model_validate({
                "technician_id": technician_id, "site_id": site_id, "work_date": work_date,
                "employer_business_id": employer_business_id, "trade": trade,
                "position": position, "work_content": work_content, "note": note})
        except ValidationError as invalid:
            return "入力が正しくありません: " + ", ".join(
                str(e["loc"][-1]) for e in invalid.errors()), False
        actor = as_written(request, session, "/v1/manual-entries", {},
                           body.model_dump(mode="json"))
        # A refusal is the API's, with its status, as an error page (404 for a hidden site).
        request_manual_entry(body, actor, ledger_of(request), request.app.state.readers)
        return f"{work_date} の直接入力を送りました（元請の承認待ち）", True

    notice, ok = await in_thread(write)
    context = await worker_context(request, session, technician_id,
                                   ledger_of(request).log_position() if ok else None)
    context.update(notice=notice, notice_ok=ok)
    return render(request, "worker.html", context, status_code=200 if ok else 422)
