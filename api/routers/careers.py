"""就業履歴: a worker's career as the read models hold it — records, day counts, levels, Kentaikyo.

The worker reads everything of theirs; an employer the records it is the employer of; a prime the
records on its own sites only; auditors and admins everything (logged). Anyone else gets the 404
of an unregistered worker (`ledger.privacy`).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.csv_export import CSV_RESPONSE, csv_response
from api.deps import LevelReads, WorkerReads
from api.openapi import AUTHENTICATED, problems
from api.paging import Key, PageDep, day, text
from api.query_params import DateFrom, DateTo, Month, Trade, check_range
from api.reading import Reading
from api.schemas.careers import (
    CareerSummaryPublic,
    KentaikyoLinePublic,
    LevelJudgmentList,
    LevelJudgmentPublic,
    WorkerKentaikyoPublic,
    WorkRecordList,
    WorkRecordPublic,
)
from api.schemas.common import TechnicianIdPath
from ledger.errors import InvalidValue
from projections.levels import UnknownTradeError
from projections.queries import career_records, career_summary, kentaikyo_month, level_judgments
from projections.queries.records import career_records_page
from projections.queries.scopes import worker_scope
from projections.records import WorkRecord

router = APIRouter(prefix="/workers", tags=["careers"], responses=AUTHENTICATED)
READS = problems(404)
CSV_COLUMNS = ("就業日", "現場ID", "所属事業者ID", "職種", "立場", "作業内容", "入場", "退場",
               "就業時間(分)", "状態", "出所", "フラグ", "イベント位置")


def record_key(record: WorkRecord) -> Key:
    return record.work_date.isoformat(), record.site_id


@router.get("/{technician_id}/records", responses=READS)
async def list_work_records(
    technician_id: TechnicianIdPath, date_from: DateFrom, date_to: DateTo, reads: WorkerReads,
    paging: PageDep,
) -> WorkRecordList:
    """就業履歴: the worker's records over a date range (every status), by date and site."""

    def listed(read: Reading) -> WorkRecordList:
        page = paging.page()
        check_range(date_from, date_to)
        scope = worker_scope(read.tx, read.actor, technician_id)
        records = career_records_page(read.tx, technician_id, date_from, date_to,
                                      page.keyset(day, text), **scope.kwargs())
        items, next_cursor = page.answer(records, record_key)
        return WorkRecordList(
            technician_id=technician_id, items=[WorkRecordPublic.model_validate(r) for r in items],
            next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(listed)


@router.get("/{technician_id}/records.csv", response_class=Response,
            responses={**CSV_RESPONSE, **READS})
async def download_work_records(
    technician_id: TechnicianIdPath, date_from: DateFrom, date_to: DateTo, reads: WorkerReads,
) -> Response:
    """就業履歴 as CSV (UTF-8 with BOM, times in JST) for Excel."""

    def download(read: Reading) -> Response:
        check_range(date_from, date_to)
        scope = worker_scope(read.tx, read.actor, technician_id)
        records = career_records(read.tx, technician_id, date_from, date_to, **scope.kwargs())
        rows = ([r.work_date, r.site_id, r.employer_business_id, r.trade, r.position,
                 r.work_content, r.first_entry, r.last_exit, r.minutes_on_site, r.status,
                 r.source, r.flags, r.event_positions] for r in records)
        return csv_response(CSV_COLUMNS, rows,
                            f"career-{technician_id}-{date_from}-{date_to}.csv")

    return await reads.run(download)


@router.get("/{technician_id}/career", responses=READS)
async def get_career_summary(
    technician_id: TechnicianIdPath, date_from: DateFrom, date_to: DateTo, reads: WorkerReads,
) -> CareerSummaryPublic:
    """就業日数 and 就業履歴数 over a date range, in total and by trade, employer and site."""

    def summarise(read: Reading) -> CareerSummaryPublic:
        check_range(date_from, date_to)
        scope = worker_scope(read.tx, read.actor, technician_id)
        summary = career_summary(read.tx, technician_id, date_from, date_to, **scope.kwargs())
        return CareerSummaryPublic.of(summary, read.position)

    return await reads.run(summarise)


@router.get("/{technician_id}/levels", responses=READS)
async def list_level_judgments(
    technician_id: TechnicianIdPath, reads: LevelReads, paging: PageDep, trade: Trade = None
) -> LevelJudgmentList:
    """能力評価: the level per trade, with what is missing for the next (not for primes)."""

    def judge(read: Reading) -> LevelJudgmentList:
        page = paging.page()
        worker_scope(read.tx, read.actor, technician_id)
        try:
            judged = level_judgments(read.tx, technician_id, trade)
        except UnknownTradeError as error:
            raise InvalidValue("trade", "trade.known", str(error)) from None
        # One worker's trades: a few, bounded by nature; paged as judged.
        items, next_cursor = page.take(judged, lambda j: (j.trade,))
        return LevelJudgmentList(
            technician_id=technician_id, items=[LevelJudgmentPublic.of(j) for j in items],
            next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(judge)


@router.get("/{technician_id}/kentaikyo", responses=READS)
async def get_worker_kentaikyo(
    technician_id: TechnicianIdPath, month: Month, reads: WorkerReads,
) -> WorkerKentaikyoPublic:
    """建退共: the worker's days and points (1 point = 1 yen) in a month, per employer × site."""

    def settle(read: Reading) -> WorkerKentaikyoPublic:
        scope = worker_scope(read.tx, read.actor, technician_id)
        settled = kentaikyo_month(read.tx, month, technician_id=technician_id, **scope.kwargs())
        return WorkerKentaikyoPublic(
            technician_id=technician_id, month=settled.month, due_on=settled.due_on,
            eligible_days=sum(line.eligible_days for line in settled.lines),
            points_yen=settled.points_yen,
            lines=[KentaikyoLinePublic.model_validate(line) for line in settled.lines],
            projection_position=read.position)

    return await reads.run(settle)
