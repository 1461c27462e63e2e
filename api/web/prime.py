"""元請の承認待ち (the prime's inbox): pending manual entries and corrections on its sites, the
oldest deadline first, with the days left and the last day; approve or reject one or many."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError

from api.deps import PRIME_READERS, WORKER_READERS
from api.reading import Reading
from api.routers import corrections, manual_entries
from api.routers.inbox import list_inbox
from api.schemas.common import BusinessIdPath
from api.schemas.requests import Rejection
from api.schemas.sites_read import PendingRequestPublic
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
from ledger.clock import JST
from ledger.errors import LedgerError
from projections.queries.records import career_records
from projections.queries.roster import RosterEntry, roster_entries
from projections.queries.scopes import site_scope, worker_scope
from projections.records import WorkRecord

router = APIRouter()
KINDS = {"ManualEntry": ("manual_entry", "直接入力", "/v1/manual-entries"),
         "Correction": ("correction", "訂正", "/v1/corrections")}
FIELD_NAMES = {"trade": "職種", "position": "立場", "work_content": "作業内容",
               "entry_at": "入場", "exit_at": "退場", "employer_business_id": "所属事業者"}


@dataclass(frozen=True)
class Evidence:
    """Beside a request: the worker's roster entry on the site, and their records that day on
    the sites the reader sees (its own: never another company's site); a correction's "from"."""

    roster: list[RosterEntry]
    records: list[WorkRecord] | None  # None: the reader reads no worker's records (a site
    # manager, a key scoped to sites)

    def current(self, site_id: str) -> WorkRecord | None:
        return next((r for r in self.records or [] if r.site_id == site_id), None)


@dataclass(frozen=True)
class InboxRow:
    item: PendingRequestPublic
    kind_name: str
    last_day: date  # the last day to decide: the day before the (exclusive) deadline
    days_left: int
    evidence: Evidence


def rows_of(items: list[PendingRequestPublic], evidence: list[Evidence],
            today: date) -> list[InboxRow]:
    rows = []
    for item, seen in zip(items, evidence, strict=True):
        last_day = item.deadline.astimezone(JST).date() - timedelta(days=1)
        rows.append(InboxRow(item, KINDS.get(item.kind, ("", item.kind, ""))[1], last_day,
                             (last_day - today).days, seen))
    return sorted(rows, key=lambda r: (r.last_day, r.item.requested_at))


def evidence_of(read: Reading, items: list[PendingRequestPublic]) -> list[Evidence]:
    """Each request's evidence, read with the privacy the API reads them with (`site_scope`
    for the roster, `worker_scope` for records)."""
    found = []
    for item in items:
        scope = site_scope(read.tx, read.actor, item.site_id)
        roster = [e for e in roster_entries(read.tx, item.site_id, item.technician_id)
                  if scope.shows(e.employer_business_id)]
        records: list[WorkRecord] | None = None
        if read.actor.role in WORKER_READERS and read.actor.scope.sites is None:
            try:
                seen = worker_scope(read.tx, read.actor, item.technician_id)
                records = career_records(read.tx, item.technician_id, item.work_date,
                                         item.work_date, **seen.kwargs())
            except LedgerError:
                records = []  # the worker is hidden from this reader now: nothing to show
        found.append(Evidence(roster, records))
    return found


async def inbox_page(request: Request, session: WebSession, business_id: str,
                     site_id: str | None, results: list[tuple[str, str, bool]] | None = None,
                     after: int | None = None) -> Response:
    reads = reads_for(request, session, *PRIME_READERS, min_position=after)
    inbox = await list_inbox(business_id, reads, WHOLE_LIST, site_id)
    evidence = await reads_for(request, session, *PRIME_READERS).run(
        lambda read: evidence_of(read, inbox.items))
    today = clock.now().astimezone(JST).date()
    return render(request, "inbox.html", {
        "business_id": business_id, "site_id": site_id,
        "rows": rows_of(inbox.items, evidence, today),
        "today": today, "results": results or [], "field_names": FIELD_NAMES})


@router.get("/primes/{business_id}/inbox")
async def inbox(request: Request, business_id: BusinessIdPath, session: SessionDep,
                site_id: str | None = None) -> Response:
    """承認待ち (the prime, its site managers; auditors and admins read it)."""
    return await inbox_page(request, session, business_id, site_id)


@router.post("/primes/{business_id}/inbox")
async def decide(
    request: Request, business_id: BusinessIdPath, session: FormSession,
    action: Annotated[str, Form()], selected: Annotated[list[str] | None, Form()] = None,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """承認 or 否認 of each selected request, one at a time through the API's own route
    functions; each answers for itself (one refused does not stop the others)."""
    results = await in_thread(lambda: [decide_one(request, session, value, action, reason)
                                       for value in selected or []])
    if not selected:
        results = [("", "一件も選ばれていません", False)]
    return await inbox_page(request, session, business_id, None, results,
                            ledger_of(request).log_position())


def decide_one(request: Request, session: WebSession, value: str, action: str,
               reason: str) -> tuple[str, str, bool]:
    kind, _, raw_id = value.partition(":")
    try:
        request_id = UUID(raw_id)
        slug, name, api_prefix = KINDS[kind]
        if action not in ("approve", "reject"):
            raise KeyError(action)
    except (ValueError, KeyError):
        return value, "選択が正しくありません", False
    ledger = ledger_of(request)
    try:
        actor = as_written(request, session, f"{api_prefix}/{request_id}/{action}",
                           {"request_id": str(request_id)}, {})
        module: Any = manual_entries if slug == "manual_entry" else corrections
        if action == "approve":
            getattr(module, f"approve_{slug}")(request_id, actor, ledger)
            return str(request_id), f"{name}を承認しました", True
        body = Rejection(reason=reason)
        getattr(module, f"reject_{slug}")(request_id, body, actor, ledger)
        return str(request_id), f"{name}を否認しました（理由: {reason}）", True
    except ValidationError:
        return str(request_id), "否認には理由が必要です", False
    except LedgerError as refused:
        return str(request_id), f"できませんでした: {refused}", False
