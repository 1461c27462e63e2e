"""監査: the stored events behind a work record, the global log page by page, and the ledger as
it was at a past moment. The log and replays are for auditors and admins; the events behind a
record for whoever may read that record. Every auditor's and admin's read is logged."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.deps import AuditorReads, LedgerDep, ReplaysDep, WorkerReads
from api.openapi import AUTHENTICATED, problems
from api.paging import Key, PageDep, check_comparable
from api.problems import hidden
from api.query_params import FIRST_DAY, LAST_DAY, MAX_POSITION, check_range
from api.reading import Reading
from api.replay_jobs import ReplayJob, ReplayRequest
from api.schemas.audit import (
    AuditEntryList,
    AuditEntryPublic,
    ReplayCreate,
    ReplayJobList,
    ReplayJobPublic,
)
from api.schemas.common import SiteIdPath, TechnicianIdPath
from ledger.clock import require_moment
from ledger.errors import InvalidValue, UnknownReference
from projections.audit import audit_work_record, events_after
from projections.queries import career_records
from projections.queries.scopes import worker_scope

PREFIX = "/v1"  # the API's (api.routers.PREFIX, which imports this module)

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


ReplayIdPath = Annotated[str, Path(pattern="^[0-9a-f]{32}$", description="The job's ID")]


def replay_url(replay_id: str) -> str:
    return f"{PREFIX}/audit/replays/{replay_id}"


def replay_public(job: ReplayJob) -> ReplayJobPublic:
    return ReplayJobPublic.model_validate({
        **{name: getattr(job, name) for name in (
            "replay_id", "status", "as_of", "technician_id", "date_from", "date_to",
            "requested_at", "started_at", "finished_at", "stop_position", "kept_until",
            "result", "failure")},
        "status_url": replay_url(job.replay_id),
        "progress": {"events_read": job.events_read, "events_to_read": job.events_to_read}})


@router.post("/replays", status_code=202, responses=problems(404))
async def replay_career(body: ReplayCreate, reads: AuditorReads, replays: ReplaysDep,
                        response: Response) -> ReplayJobPublic:
    """The ledger as of a moment: a job replaying the log up to it, answered at once (202,
    `Location`: its status URL); when done, the worker's career summary as it was then."""

    def requested(read: Reading) -> ReplayJobPublic:
        check_range(body.date_from, body.date_to)
        require_moment(body.as_of, "as_of")  # one the job can compute with, on both databases
        # Workers are never removed: one unknown now was unknown then (404 at once). One
        # registered after the moment is known only to the replay, whose job fails with 404.
        worker_scope(read.tx, read.actor, body.technician_id)
        request = ReplayRequest(body.as_of, body.technician_id, body.date_from, body.date_to)
        return replay_public(replays.request(read.actor, request))

    job = await reads.run(requested)
    response.headers["Location"] = job.status_url
    return job


@router.get("/replays/{replay_id}", responses=problems(404))
async def read_replay(replay_id: ReplayIdPath, reads: AuditorReads,
                      replays: ReplaysDep) -> ReplayJobPublic:
    """An as-of replay's status, progress and, once done, its answer (auditors, admins); 404
    once it has been kept its time, as for one never asked."""

    def read(reading: Reading) -> ReplayJobPublic:
        job = replays.find(replay_id)
        try:
            if job is None:
                raise hidden("replay_id", replay_id)
            worker_scope(reading.tx, reading.actor, job.technician_id)
        except UnknownReference:  # about someone hidden: answered as absent, word for word
            raise hidden("replay_id", replay_id) from None
        return replay_public(job)

    return await reads.run(read)


def replay_cursor(after: Key) -> tuple[datetime, str]:
    check_comparable(after, ("", ""))
    try:
        return datetime.fromisoformat(str(after[0])), str(after[1])
    except ValueError:
        raise InvalidValue("cursor", "cursor.format", "is not a cursor of this list") from None


@router.get("/replays")
async def list_replays(reads: AuditorReads, replays: ReplaysDep,
                       paging: PageDep) -> ReplayJobList:
    """The caller's own as-of replays not yet removed, newest first."""

    def listed(read: Reading) -> ReplayJobList:
        page = paging.page()
        before = replay_cursor(page.after) if page.after else None
        jobs = replays.of(read.actor, before, page.limit + 1)
        shown = jobs[:page.limit]
        next_cursor = page.cursor_after((shown[-1].requested_at.isoformat(),
                                         shown[-1].replay_id)) if len(jobs) > page.limit else None
        return ReplayJobList(items=[replay_public(job) for job in shown], next_cursor=next_cursor,
                             projection_position=read.position)

    return await reads.run(listed)
