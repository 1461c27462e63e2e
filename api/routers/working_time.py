"""勤怠・労務管理: reported working time, 36 agreements, a site's terms; time on site, the
overtime monitor, 週休2日 closures, and the orderer's (発注者) aggregates.

Who reads what (`ledger.privacy`): a worker their own time on site and overtime (every
employer's); an employer its workers'; a prime its site's time on site by employer, as totals,
and its site's closures; an orderer only the aggregates of the sites it orders (no worker in
them, and every per-worker read refuses its role). Anything else answers as absent (404).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Response

from api.csv_export import CSV_RESPONSE, csv_response
from api.deps import AUDITORS, CurrentActor, LedgerDep, reads_as
from api.openapi import AUTHENTICATED, problems
from api.paging import PageDep, text
from api.query_params import SITE_RANGE_DAYS, DateFrom, DateTo, Month, check_range
from api.reading import Reading, Reads
from api.schemas.common import BusinessIdPath, Receipt, SiteIdPath, TechnicianIdPath
from api.schemas.working_time import (
    ClosureSpanPublic,
    EmployerTotalsPublic,
    ExclusionCreate,
    LabourSummaryPublic,
    MonitorList,
    MonitorMonthPublic,
    OrderedSiteList,
    OrderedSitePublic,
    OrdererSet,
    OvertimeAgreementCreate,
    PeriodCreate,
    ShiftsSet,
    SiteClosuresPublic,
    SiteDayPublic,
    SiteTimePublic,
    SiteTimeTotals,
    TimeOnSiteDayPublic,
    TimeOnSiteList,
    WorkerDaysOffPublic,
    WorkingDayReport,
    WorkingMonthReport,
)
from ledger.actors import Role
from ledger.application import require_role
from ledger.domain.labour_rules import ClosureSpan
from ledger.privacy import SiteScope, today
from projections.kentaikyo import month_bounds
from projections.queries import working_time as wt
from projections.queries.scopes import (
    employer_scope,
    orderer_scope,
    site_scope,
    summary_scope,
    worker_scope,
)

router = APIRouter(prefix="", tags=["working time"], responses=AUTHENTICATED)
READS = problems(404)
CHANGES = problems(404, 409)

# A worker's time on site: as their records (the worker, employers, primes of active sites).
TimeReads = Annotated[Reads, reads_as(Role.WORKER, Role.EMPLOYER, Role.PRIME_CONTRACTOR,
                                      *AUDITORS)]
# Overtime is the employment's: the worker, the employer (a business's key for itself; never a
# prime for another's workers, never a key scoped to sites, which reads no whole employment).
OvertimeReads = Annotated[Reads, reads_as(Role.WORKER, Role.EMPLOYER, *AUDITORS,
                                          whole_careers=True)]
EmployerOvertimeReads = Annotated[Reads, reads_as(Role.EMPLOYER, Role.PRIME_CONTRACTOR,
                                                  *AUDITORS, whole_careers=True)]
# A site's closures: as its rows, and its orderer (aggregates only).
ClosureReads = Annotated[Reads, reads_as(Role.PRIME_CONTRACTOR, Role.SITE_MANAGER, Role.EMPLOYER,
                                         Role.ORDERER, *AUDITORS)]
SiteTotalsReads = Annotated[Reads, reads_as(Role.PRIME_CONTRACTOR, Role.SITE_MANAGER,
                                            Role.EMPLOYER, *AUDITORS)]
SummaryReads = Annotated[Reads, reads_as(Role.ORDERER, Role.PRIME_CONTRACTOR, Role.SITE_MANAGER,
                                         *AUDITORS)]
OrdererReads = Annotated[Reads, reads_as(Role.ORDERER, *AUDITORS)]

TIME_CSV = ("就業日", "技能者ID", "現場ID", "所属事業者ID", "入場", "退場", "滞在時間(分)",
            "日計滞在時間(分)")
MONITOR_CSV = ("対象月", "技能者ID", "所属事業者ID", "推計", "法定内(分)", "時間外(分)",
               "休日(分)", "年間時間外(分)", "45h超の月数", "2-6か月平均最大(分)", "判定",
               "面接指導の通知")
DAYS_CSV = ("日", "就業者数", "直接入力等", "閉所", "除外")


# -- writes -------------------------------------------------------------------------------------


@router.post("/workers/{technician_id}/working-time/days", responses=CHANGES)
def report_working_day(
    technician_id: TechnicianIdPath, body: WorkingDayReport, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """労働時間: a worker-day's hours split into statutory hours, overtime and holiday work, as
    the employer reports them (a second report of the day corrects it, with its reason)."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER)
    ledger.report_working_day(technician_id, body.work_date, body.statutory_minutes,
                              body.overtime_minutes, body.holiday_minutes, actor,
                              body.employer_business_id, body.reason)
    return Receipt(position=ledger.log_position())


@router.post("/workers/{technician_id}/working-time/months", responses=CHANGES)
def report_working_month(
    technician_id: TechnicianIdPath, body: WorkingMonthReport, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """A month's totals, for an employer that keeps no daily figures; they stand for the month."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER)
    first, _ = month_bounds(body.month)
    ledger.report_working_month(technician_id, first, body.statutory_minutes,
                                body.overtime_minutes, body.holiday_minutes, actor,
                                body.employer_business_id, body.reason)
    return Receipt(position=ledger.log_position())


@router.post("/businesses/{business_id}/overtime-agreements", responses=CHANGES)
def conclude_overtime_agreement(
    business_id: BusinessIdPath, body: OvertimeAgreementCreate, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """36協定: from its first month, one year at a time (the business itself, or admin)."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER, Role.PRIME_CONTRACTOR)
    first, _ = month_bounds(body.start_month)
    ledger.conclude_overtime_agreement(business_id, first, body.special_clause, actor,
                                       body.reason)
    return Receipt(position=ledger.log_position())


@router.post("/businesses/{business_id}/disaster-work", responses=CHANGES)
def declare_disaster_work(
    business_id: BusinessIdPath, body: PeriodCreate, actor: CurrentActor, ledger: LedgerDep,
) -> Receipt:
    """災害時の臨時の必要 (労基法33条): the 100 h and 80 h limits are lifted for its months."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER, Role.PRIME_CONTRACTOR)
    ledger.declare_disaster_work(business_id, body.first_day, body.last_day, body.reason, actor)
    return Receipt(position=ledger.log_position())


@router.post("/businesses/{business_id}/disaster-work/withdraw", responses=CHANGES)
def withdraw_disaster_work(
    business_id: BusinessIdPath, body: PeriodCreate, actor: CurrentActor, ledger: LedgerDep,
) -> Receipt:
    """Withdraw a declared period (the declaration stays in the log)."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER, Role.PRIME_CONTRACTOR)
    ledger.withdraw_disaster_work(business_id, body.first_day, body.last_day, body.reason, actor)
    return Receipt(position=ledger.log_position())


@router.post("/sites/{site_id}/orderer", responses=CHANGES)
def name_site_orderer(
    site_id: SiteIdPath, body: OrdererSet, actor: CurrentActor, ledger: LedgerDep,
) -> Receipt:
    """発注者: the business the site is built for; it reads the site's aggregates only."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR)
    ledger.name_site_orderer(site_id, body.orderer_business_id, actor)
    return Receipt(position=ledger.log_position())


@router.post("/sites/{site_id}/closure-exclusions", responses=CHANGES)
def exclude_closure_period(
    site_id: SiteIdPath, body: ExclusionCreate, actor: CurrentActor, ledger: LedgerDep,
) -> Receipt:
    """A period the closure rate leaves out (年末年始, off-site fabrication …), by the prime."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR)
    ledger.exclude_closure_period(site_id, body.first_day, body.last_day, body.kind,
                                  body.reason, actor)
    return Receipt(position=ledger.log_position())


@router.post("/sites/{site_id}/closure-exclusions/withdraw", responses=CHANGES)
def withdraw_closure_exclusion(
    site_id: SiteIdPath, body: PeriodCreate, actor: CurrentActor, ledger: LedgerDep,
) -> Receipt:
    """Withdraw an excluded period (the exclusion stays in the log)."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR)
    ledger.withdraw_closure_exclusion(site_id, body.first_day, body.last_day, body.reason,
                                      actor)
    return Receipt(position=ledger.log_position())


@router.post("/sites/{site_id}/shifts", responses=CHANGES)
def set_rotating_shifts(
    site_id: SiteIdPath, body: ShiftsSet, actor: CurrentActor, ledger: LedgerDep,
) -> Receipt:
    """交替制: the site's 週休2日 is judged on each worker's days off."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR)
    ledger.set_rotating_shifts(site_id, body.rotating_shifts, actor)
    return Receipt(position=ledger.log_position())


# -- time on site ---------------------------------------------------------------------------------


def _time_on_site(read: Reading, technician_id: str, date_from: date,
                  date_to: date) -> list[wt.TimeOnSiteDay]:
    # Derived day by day from the worker's taps: a year at most, as a site's lists. The days are
    # paged from it (one worker's year is bounded: 366 rows at most).
    check_range(date_from, date_to, SITE_RANGE_DAYS)
    scope = worker_scope(read.tx, read.actor, technician_id)
    return wt.time_on_site(read.tx, technician_id, date_from, date_to, **scope.kwargs())


def _day_public(day: wt.TimeOnSiteDay) -> TimeOnSiteDayPublic:
    return TimeOnSiteDayPublic(
        technician_id=day.technician_id, work_date=day.work_date,
        minutes_on_site=day.minutes_on_site, known_minutes=day.known_minutes,
        sites=[SiteTimePublic(site_id=s.site_id, employer_business_id=s.employer_business_id,
                              first_entry=s.first_entry, last_exit=s.last_exit,
                              minutes_on_site=s.minutes_on_site,
                              event_positions=list(s.event_positions)) for s in day.sites])


@router.get("/workers/{technician_id}/time-on-site", responses=READS)
async def list_time_on_site(
    technician_id: TechnicianIdPath, date_from: DateFrom, date_to: DateTo, reads: TimeReads,
    paging: PageDep,
) -> TimeOnSiteList:
    """滞在時間: time between entry and exit taps per day (gate time, not working time), every
    site of the day added; a missing exit is unknown (null)."""

    def listed(read: Reading) -> TimeOnSiteList:
        page = paging.page()
        days = _time_on_site(read, technician_id, date_from, date_to)
        items, next_cursor = page.take(days, lambda d: (d.work_date.isoformat(),))
        return TimeOnSiteList(technician_id=technician_id, items=[_day_public(d) for d in items],
                              next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(listed)


@router.get("/workers/{technician_id}/time-on-site.csv", response_class=Response,
            responses={**CSV_RESPONSE, **READS})
async def download_time_on_site(
    technician_id: TechnicianIdPath, date_from: DateFrom, date_to: DateTo, reads: TimeReads,
) -> Response:
    """Time on site as CSV (UTF-8 with BOM); an unknown time is an empty cell."""

    def download(read: Reading) -> Response:
        days = _time_on_site(read, technician_id, date_from, date_to)
        rows = ([d.work_date, d.technician_id, s.site_id, s.employer_business_id, s.first_entry,
                 s.last_exit, s.minutes_on_site, d.minutes_on_site]
                for d in days for s in d.sites)
        return csv_response(TIME_CSV, rows,
                            f"time-on-site-{technician_id}-{date_from}-{date_to}.csv")

    return await reads.run(download)


@router.get("/sites/{site_id}/time-on-site", responses=READS)
async def get_site_time_totals(
    site_id: SiteIdPath, date_from: DateFrom, date_to: DateTo, reads: SiteTotalsReads,
) -> SiteTimeTotals:
    """Time on site at the site by employer, as totals only (worker-days, known minutes, days
    with an unknown exit): the prime's view of other employers' workers."""

    def totals(read: Reading) -> SiteTimeTotals:
        check_range(date_from, date_to, SITE_RANGE_DAYS)
        scope = site_scope(read.tx, read.actor, site_id)
        rows = wt.site_time_totals(read.tx, site_id, date_from, date_to, scope.employers)
        return SiteTimeTotals(
            site_id=site_id, items=[EmployerTotalsPublic.model_validate(r, from_attributes=True)
                                    for r in rows],
            projection_position=read.position)

    return await reads.run(totals)


# -- the overtime monitor -------------------------------------------------------------------------


def _monitor_public(row: wt.MonitorMonth) -> MonitorMonthPublic:
    j = row.judgment
    agreement: dict[str, str | bool] | None = None if row.agreement is None else {
        "start_month": f"{row.agreement.start_month:%Y-%m}",
        "special_clause": row.agreement.special_clause}
    return MonitorMonthPublic(
        technician_id=row.technician_id, employer_business_id=row.employer_business_id,
        month=f"{row.month:%Y-%m}", estimated=row.estimated, unknown_exits=row.unknown_exits,
        statutory_minutes=row.statutory, overtime_minutes=j.overtime, holiday_minutes=j.holiday,
        year_start=f"{j.year_start:%Y-%m}", year_overtime_minutes=j.year_overtime,
        months_over_45h=j.months_over_45,
        averages_minutes={str(n): round(float(a), 1) for n, a in j.averages.items()},
        limits={limit.value: verdict.value for limit, verdict in j.limits.items()},
        lifted=[limit.value for limit in j.lifted], notice_owed=j.notice_owed,
        agreement=agreement, event_positions=list(row.event_positions))


def _as_of(first: date, last: date) -> date:
    """The date the figures run to: today within the month (a month in progress), else its end."""
    now = today()
    return now if first <= now <= last else last


def _employer_month(read: Reading, business_id: str, month: str,
                    break_minutes: int) -> tuple[date, list[wt.MonitorMonth]]:
    first, last = month_bounds(month)
    workers = employer_scope(read.tx, read.actor, business_id)
    as_of = _as_of(first, last)
    rows = wt.monitor(read.tx, business_id, first, as_of,
                      sorted(workers) if workers is not None else None, break_minutes)
    return as_of, rows


@router.get("/businesses/{business_id}/overtime", responses=READS)
async def list_employer_overtime(
    business_id: BusinessIdPath, month: Month, reads: EmployerOvertimeReads, paging: PageDep,
    ledger: LedgerDep,
) -> MonitorList:
    """The overtime monitor for the employer's month: per worker, the figures (reported, or
    estimated and said so), each limit ok / at_risk / violated, the 80 h notice owed, and the
    events behind each figure."""

    def listed(read: Reading) -> MonitorList:
        page = paging.page()
        first, last = month_bounds(month)
        workers = employer_scope(read.tx, read.actor, business_id)
        # The page's workers in SQL, then the figures of those workers alone.
        listed = wt.monitored_workers(read.tx, business_id, first, page.keyset(text), workers)
        shown, next_cursor = page.answer(listed, lambda technician_id: (technician_id,))
        as_of = _as_of(first, last)
        items = wt.monitor(read.tx, business_id, first, as_of, shown,
                           ledger.settings.working_time_break_minutes) if shown else []
        return MonitorList(month=month, as_of=as_of, items=[_monitor_public(r) for r in items],
                           next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(listed)


@router.get("/businesses/{business_id}/overtime.csv", response_class=Response,
            responses={**CSV_RESPONSE, **READS})
async def download_employer_overtime(
    business_id: BusinessIdPath, month: Month, reads: EmployerOvertimeReads, ledger: LedgerDep,
) -> Response:
    """The employer's month of the overtime monitor as CSV (UTF-8 with BOM)."""

    def download(read: Reading) -> Response:
        _, rows = _employer_month(read, business_id, month,
                                  ledger.settings.working_time_break_minutes)
        lines = ([month, r.technician_id, r.employer_business_id, r.estimated, r.statutory,
                  r.judgment.overtime, r.judgment.holiday, r.judgment.year_overtime,
                  r.judgment.months_over_45, round(float(max(r.judgment.averages.values())), 1),
                  " ".join(f"{k.value}={v.value}" for k, v in r.judgment.limits.items()),
                  r.judgment.notice_owed] for r in rows)
        return csv_response(MONITOR_CSV, lines, f"overtime-{business_id}-{month}.csv")

    return await reads.run(download)


@router.get("/workers/{technician_id}/overtime", responses=READS)
async def list_worker_overtime(
    technician_id: TechnicianIdPath, month: Month, reads: OvertimeReads, paging: PageDep,
    ledger: LedgerDep,
) -> MonitorList:
    """One worker's month of the overtime monitor, per employer: the worker sees every
    employer's, an employer its own."""

    def listed(read: Reading) -> MonitorList:
        page = paging.page()
        first, last = month_bounds(month)
        scope = worker_scope(read.tx, read.actor, technician_id)
        employers = wt.employers_of_worker(read.tx, technician_id, first)
        if scope.only_employer is not None:
            employers = [e for e in employers if e == scope.only_employer]
        as_of = _as_of(first, last)
        rows = [row for employer in employers
                for row in wt.monitor(read.tx, employer, first, as_of, [technician_id],
                                      ledger.settings.working_time_break_minutes)]
        # One worker's employers in a month: a handful; paged as derived.
        items, next_cursor = page.take(rows, lambda r: (r.employer_business_id,))
        return MonitorList(month=month, as_of=as_of, items=[_monitor_public(r) for r in items],
                           next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(listed)


# -- 週休2日 -------------------------------------------------------------------------------------


def _span(span: ClosureSpan) -> ClosureSpanPublic:
    rate = span.rate
    return ClosureSpanPublic(first=span.first, last=span.last, days=span.days,
                             closed=span.closed, excluded=span.excluded,
                             rate=None if rate is None else round(float(rate), 4),
                             meets_4w8=span.meets)


def _days(report: wt.SiteClosures) -> list[SiteDayPublic]:
    return [SiteDayPublic(work_date=d.work_date, worker_days=d.worker_days, manual=d.manual,
                          excluded=d.excluded, closed=d.worker_days == 0) for d in report.days]


def _closure_scope(read: Reading, site_id: str) -> SiteScope | None:
    """The site's rows the caller reads (None: the orderer, who reads aggregates only)."""
    if read.actor.role is Role.ORDERER:
        summary_scope(read.tx, read.actor, site_id)
        return None
    return site_scope(read.tx, read.actor, site_id)


@router.get("/sites/{site_id}/closures", responses=READS)
async def get_site_closures(
    site_id: SiteIdPath, date_from: DateFrom, date_to: DateTo, reads: ClosureReads,
) -> SiteClosuresPublic:
    """週休2日: closed days (no worker on site) and the closure rate, 通期 and 月単位, less the
    excluded periods; with rotating shifts (交替制), each worker's days off per 4 weeks, for
    those who read every row of the site."""

    def closures(read: Reading) -> SiteClosuresPublic:
        check_range(date_from, date_to, SITE_RANGE_DAYS)
        scope = _closure_scope(read, site_id)
        every_row = scope is not None and scope.employers is None
        report = wt.site_closures(read.tx, site_id, date_from, date_to, per_worker=every_row)
        return SiteClosuresPublic(
            site_id=site_id, rotating_shifts=report.rotating_shifts, whole=_span(report.whole),
            months=[_span(m) for m in report.months], meets_monthly=report.meets_monthly,
            exclusions=[{"first_day": str(s), "last_day": str(e), "kind": k}
                        for s, e, k in report.exclusions],
            days=_days(report),
            workers=[WorkerDaysOffPublic(technician_id=w.technician_id,
                                         blocks=[_span(b) for b in w.blocks])
                     for w in report.workers],
            projection_position=read.position)

    return await reads.run(closures)


@router.get("/sites/{site_id}/labour-summary", responses=READS)
async def get_labour_summary(
    site_id: SiteIdPath, date_from: DateFrom, date_to: DateTo, reads: SummaryReads,
) -> LabourSummaryPublic:
    """The orderer's view (発注者): closure rates, worker-days per day, the share of records made
    without direct input, the Kentaikyo method. No worker is named."""

    def summary(read: Reading) -> LabourSummaryPublic:
        check_range(date_from, date_to, SITE_RANGE_DAYS)
        summary_scope(read.tx, read.actor, site_id)
        s = wt.labour_summary(read.tx, site_id, date_from, date_to)
        share = s.without_direct_input_share
        return LabourSummaryPublic(
            site_id=site_id, name=s.name, kentaikyo_method=s.kentaikyo_method,
            records=s.records, records_without_direct_input=s.card_records,
            without_direct_input_share=None if share is None else round(share, 4),
            rotating_shifts=s.closures.rotating_shifts, whole=_span(s.closures.whole),
            months=[_span(m) for m in s.closures.months],
            meets_monthly=s.closures.meets_monthly, days=_days(s.closures),
            projection_position=read.position)

    return await reads.run(summary)


@router.get("/sites/{site_id}/labour-summary.csv", response_class=Response,
            responses={**CSV_RESPONSE, **READS})
async def download_labour_summary(
    site_id: SiteIdPath, date_from: DateFrom, date_to: DateTo, reads: SummaryReads,
) -> Response:
    """The site's days as CSV (UTF-8 with BOM): worker-days, records made without the card,
    closed, excluded. No worker is named."""

    def download(read: Reading) -> Response:
        check_range(date_from, date_to, SITE_RANGE_DAYS)
        summary_scope(read.tx, read.actor, site_id)
        report = wt.site_closures(read.tx, site_id, date_from, date_to, per_worker=False)
        rows = ([d.work_date, d.worker_days, d.manual, d.worker_days == 0, d.excluded]
                for d in report.days)
        return csv_response(DAYS_CSV, rows, f"labour-{site_id}-{date_from}-{date_to}.csv")

    return await reads.run(download)


@router.get("/orderers/{business_id}/sites", responses=READS)
async def list_ordered_sites(
    business_id: BusinessIdPath, reads: OrdererReads, paging: PageDep,
) -> OrderedSiteList:
    """The sites the orderer (発注者) orders: those whose terms name it."""

    def listed(read: Reading) -> OrderedSiteList:
        page = paging.page()
        orderer_scope(read.tx, read.actor, business_id)
        sites = wt.orderer_sites(read.tx, business_id, page.keyset(text))
        items, next_cursor = page.answer(sites, lambda s: (s.site_id,))
        return OrderedSiteList(
            orderer_business_id=business_id,
            items=[OrderedSitePublic.model_validate(s, from_attributes=True) for s in items],
            next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(listed)

