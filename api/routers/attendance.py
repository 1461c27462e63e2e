"""出面: who was on a site, who is on it now, entries never closed, taps to resolve, the site's
建退共 month (元請一括) and a month of its records as CSV.

The site's prime reads every row; a subcontractor on the site reads its own workers and those of
the tiers below it (施工体制); auditors and admins everything (logged). Anyone else gets the 404
of an unregistered site (`ledger.privacy`). Workers read no site's rows (403).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta

from fastapi import APIRouter, Response

from api.csv_export import CSV_RESPONSE, csv_response
from api.deps import PrimeReads, SiteReads
from api.openapi import AUTHENTICATED, problems
from api.paging import Key, Page, PageDep, day, moment, number, text
from api.query_params import SITE_RANGE_DAYS, DateFrom, DateTo, Month, WorkDate, check_range
from api.reading import Reading
from api.schemas.careers import KentaikyoLinePublic
from api.schemas.common import SiteIdPath
from api.schemas.sites_read import (
    AttendanceList,
    AttendancePublic,
    DayCloseFindingPublic,
    EmployerTotal,
    SiteKentaikyoList,
    TapExceptionList,
    TapExceptionPublic,
)
from ledger.privacy import SiteScope, hidden
from projections.jobs.queries import findings_in
from projections.kentaikyo import month_bounds
from projections.queries import Attendance, KentaikyoLine, kentaikyo_month, site_attendance
from projections.queries.attendance import (
    AttendancePage,
    missing_exits_page,
    on_site_now_page,
    site_attendance_page,
)
from projections.queries.exceptions import site_exceptions_page
from projections.queries.scopes import site_scope

router = APIRouter(prefix="/sites", tags=["attendance"], responses=AUTHENTICATED)
READS = problems(404)
CSV_COLUMNS = ("就業日", "技能者ID", "氏名", "所属事業者ID", "所属事業者名", "次数", "上位事業者ID",
               "職種", "立場", "入場", "退場", "就業時間(分)", "状態", "出所", "フラグ")


def attendance_key(row: Attendance) -> Key:
    return row.work_date.isoformat(), row.technician_id


def attendance_page(
    scope: SiteScope, found: AttendancePage, page: Page, position: int
) -> AttendanceList:
    items, next_cursor = page.answer(found.rows, attendance_key)
    return AttendanceList(site_id=scope.site_id, headcount=found.headcount,
                          items=[AttendancePublic.model_validate(row) for row in items],
                          next_cursor=next_cursor, projection_position=position)


@router.get("/{site_id}/attendance", responses=READS)
async def get_site_attendance(
    site_id: SiteIdPath, work_date: WorkDate, reads: SiteReads, paging: PageDep
) -> AttendanceList:
    """出面: who was on the site on a day (counted and pending records), by worker."""

    def listed(read: Reading) -> AttendanceList:
        page = paging.page()
        scope = site_scope(read.tx, read.actor, site_id)
        found = site_attendance_page(read.tx, site_id, work_date, page.keyset(day, text),
                                     scope.employers)
        return attendance_page(scope, found, page, read.position)

    return await reads.run(listed)


@router.get("/{site_id}/on-site-now", responses=READS)
async def list_on_site_now(
    site_id: SiteIdPath, reads: SiteReads, paging: PageDep
) -> AttendanceList:
    """Who is on the site now: an entry and no exit yet (an overnight shift included)."""

    def listed(read: Reading) -> AttendanceList:
        page = paging.page()
        scope = site_scope(read.tx, read.actor, site_id)
        found = on_site_now_page(read.tx, site_id, page.keyset(day, text), scope.employers)
        return attendance_page(scope, found, page, read.position)

    return await reads.run(listed)


@router.get("/{site_id}/missing-exits", responses=READS)
async def list_missing_exits(
    site_id: SiteIdPath, date_from: DateFrom, date_to: DateTo, reads: SiteReads, paging: PageDep
) -> AttendanceList:
    """Past days' records with an entry and no exit, that no exit can close any more."""

    def listed(read: Reading) -> AttendanceList:
        page = paging.page()
        check_range(date_from, date_to, SITE_RANGE_DAYS)
        scope = site_scope(read.tx, read.actor, site_id)
        found = missing_exits_page(read.tx, site_id, date_from, date_to,
                                   page.keyset(day, text), scope.employers)
        return attendance_page(scope, found, page, read.position)

    return await reads.run(listed)


@router.get("/{site_id}/exceptions", responses=READS)
async def list_site_exceptions(
    site_id: SiteIdPath, date_from: DateFrom, date_to: DateTo, reads: PrimeReads, paging: PageDep
) -> TapExceptionList:
    """Taps to resolve (unknown or revoked card, clock skew), for the site's prime only."""

    def listed(read: Reading) -> TapExceptionList:
        page = paging.page()
        check_range(date_from, date_to, SITE_RANGE_DAYS)
        if site_scope(read.tx, read.actor, site_id).employers is not None:
            raise hidden("site_id", site_id)  # a subcontractor's prime key: not its site's taps
        rows = site_exceptions_page(read.tx, site_id, date_from, date_to,
                                    page.keyset(moment, number))
        items, next_cursor = page.answer(rows, lambda e: (e.reader_time.timestamp(), e.position))
        findings = ([] if page.after is not None
                    else findings_in(read.tx, site_id, date_from, date_to))
        return TapExceptionList(items=[TapExceptionPublic.model_validate(e) for e in items],
                                day_close_findings=[DayCloseFindingPublic.model_validate(f)
                                                    for f in findings],
                                next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(listed)


@router.get("/{site_id}/kentaikyo", responses=READS)
async def get_site_kentaikyo(
    site_id: SiteIdPath, month: Month, reads: SiteReads, paging: PageDep
) -> SiteKentaikyoList:
    """建退共 for the site's month: days and points per worker, subcontractors' included."""

    def settle(read: Reading) -> SiteKentaikyoList:
        page = paging.page()
        scope = site_scope(read.tx, read.actor, site_id)
        # The site's month, settled over its workers' months (their records elsewhere too),
        # whole: the employer totals sum every line. A month of one site is bounded by the site's
        # workers that month, not by its history; the lines are paged from it.
        settled = kentaikyo_month(read.tx, month, only_sites_of_prime=scope.prime_business_id,
                                  workers_on=[site_id])
        lines = site_lines(settled.lines, scope)
        # The site's settlement figures stay with the prime once the site is closed, when its
        # per-worker lines are each employer's again (ledger.privacy).
        totals = employer_totals(line for line in settled.lines if line.site_id == site_id
                                 and scope.shows_figures(line.employer_business_id))
        items, next_cursor = page.take(
            lines, lambda x: (x.technician_id, x.employer_business_id or ""))
        return SiteKentaikyoList(
            site_id=site_id, prime_business_id=scope.prime_business_id, month=settled.month,
            due_on=settled.due_on, eligible_days=sum(t.eligible_days for t in totals),
            points_yen=sum(t.points_yen for t in totals), by_employer=totals,
            items=[KentaikyoLinePublic.model_validate(line) for line in items],
            next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(settle)


def site_lines(lines: Iterable[KentaikyoLine], scope: SiteScope) -> list[KentaikyoLine]:
    """The site's lines the caller may read. A day another site's record carries names that
    site to the prime only: a subcontractor reads this site alone."""
    shown = [line for line in lines
             if line.site_id == scope.site_id and scope.shows(line.employer_business_id)]
    if scope.employers is None:
        return shown
    return [replace(line, days=tuple(
        replace(day, carrying_site_id=None) if day.carrying_site_id not in (None, scope.site_id)
        else day for day in line.days)) for line in shown]


def employer_totals(lines: Iterable[KentaikyoLine]) -> list[EmployerTotal]:
    totals: defaultdict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        totals[line.employer_business_id][0] += line.eligible_days
        totals[line.employer_business_id][1] += line.points_yen
    return [EmployerTotal(employer_business_id=e, eligible_days=d, points_yen=p)
            for e, (d, p) in sorted(totals.items(), key=lambda t: t[0] or "")]


@router.get("/{site_id}/records.csv", response_class=Response,
            responses={**CSV_RESPONSE, **READS})
async def download_site_month(site_id: SiteIdPath, month: Month, reads: SiteReads) -> Response:
    """A month of the site's records (出面, counted and pending) as CSV for Excel."""

    def download(read: Reading) -> Response:
        scope = site_scope(read.tx, read.actor, site_id)
        first, last = month_bounds(month)
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        rows = [[r.work_date, r.technician_id, r.worker_name, r.employer_business_id,
                 r.employer_name, r.tier, r.parent_business_id, r.trade, r.position,
                 r.first_entry, r.last_exit, r.minutes_on_site, r.status, r.source, r.flags]
                for day in days for r in site_attendance(read.tx, site_id, day).rows
                if scope.shows(r.employer_business_id)]
        return csv_response(CSV_COLUMNS, rows, f"site-{site_id}-{month}.csv")

    return await reads.run(download)
