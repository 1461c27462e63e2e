"""監査: the stored events behind a work record, the global log page by page, and the ledger as
it was at a past moment. The log and replays are for auditors and admins; the events behind a
record for whoever may read that record. Every auditor's and admin's read is logged."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import Auditor, AuditorReads, LedgerDep, ReplaysDep, WorkerReads
from api.openapi import AUTHENTICATED, problems
from api.paging import Key, PageDep, check_comparable
from api.query_params import FIRST_DAY, LAST_DAY, MAX_POSITION, check_range
from api.reading import Reading, projection_position
from api.schemas.audit import AuditEntryList, AuditEntryPublic, ReplayCreate, ReplayPublic
from api.schemas.careers import CareerSummaryPublic
from api.schemas.common import SiteIdPath, TechnicianIdPath
from ledger.errors import InvalidValue, UnknownReference
from projections.audit import audit_work_record, events_after
from projections.queries import career_records, career_summary
from projections.queries.scopes import worker_scope

router = APIRouter(prefix="/audit", tags=["audit"], responses=AUTHENTICATED)
WorkDatePath = Annotated[date, Path(ge=FIRST_DAY, le=LAST_DAY, description="就業日 (JST)")]
After = Annotated[int, Query(ge=0, le=MAX_POSITION, description="Start after this log position")]


@router.get("/work-records/{technician_id}/{site_id}/{work_date}/events",
            responses=problems(404))
async def list_record_events(
    technician_id: TechnicianIdPath, site_id: SiteIdPath, work_date: WorkDatePath,
    reads: WorkerReads, ledger: LedgerDep, paging: PageDep,
) -> AuditEntryList:
    """Why a record says what it says: the events behind it, with actor, time and reason."""

    def listed(read: Reading) -> AuditEntryList:
        page = paging.page()
        scope = worker_scope(read.tx, read.actor, technician_id)
        records = career_records(read.tx, technician_id, work_date, work_date, **scope.kwargs())
        if not any(record.site_id == site_id for record in records):
            raise UnknownReference("work_record", "work_record.exists",
                                   f"{technician_id} has no record at {site_id} on {work_date}")
        entries = audit_work_record(ledger, read.tx, technician_id, site_id, work_date)
        # One record's events: bounded by nature (its taps, requests and decisions).
        items, next_cursor = page.take(entries, lambda e: (e.position,))
        return AuditEntryList(items=[AuditEntryPublic.model_validate(e) for e in items],
                              next_cursor=next_cursor, projection_position=read.position,
                              log_position=ledger.log_position())

    return await reads.run(listed)


def log_cursor(after: Key) -> int:
    check_comparable(after, (0,))
    position = int(after[0])
    if not 0 <= position <= MAX_POSITION:
        raise InvalidValue("cursor", "cursor.format", "is not a cursor of this list")
    return position


@router.get("/events")
async def list_events(
    reads: AuditorReads, ledger: LedgerDep, paging: PageDep, after: After = 0
) -> AuditEntryList:
    """The global log after a position, in recorded order (auditors, admins)."""

    def listed(read: Reading) -> AuditEntryList:
        page = paging.page()
        start = max(after, log_cursor(page.after)) if page.after else after
        entries = events_after(ledger, start, page.limit)
        head = ledger.log_position()
        more = len(entries) == page.limit and entries[-1].position < head
        return AuditEntryList(
            items=[AuditEntryPublic.model_validate(e) for e in entries],
            next_cursor=page.cursor_after((entries[-1].position,)) if more else None,
            projection_position=read.position, log_position=head)

    return await reads.run(listed)


@router.post("/replays", responses=problems(404))
def replay_career(body: ReplayCreate, actor: Auditor, replays: ReplaysDep) -> ReplayPublic:
    """The ledger as of a moment: a worker's career summary from the events recorded by then."""
    check_range(body.date_from, body.date_to)
    with replays.as_of(body.as_of) as store, store.read() as tx:
        worker_scope(tx, actor, body.technician_id)
        summary = career_summary(tx, body.technician_id, body.date_from, body.date_to)
        position = projection_position(tx)
    return ReplayPublic(as_of=body.as_of, events_replayed_through=position,
                        career=CareerSummaryPublic.of(summary, position))
