"""入場時の確認 (entry checks) and 建退共の口座 (Kentaikyo accounts).

Writes: a worker's social-insurance records and qualification expiries (admin, the worker's
employer; expiries also the worker), a site's entry rules (admin, the prime), the training
institution kind (admin), and a contracting employer's points, reports and wage-payment dates
(the business itself, admin; rebates: admin). Reads: an account (the business; auditors, admins),
a site's coverage reconciliation (as the site's other reads: its prime, the subcontractors on
it for their tiers), expiry alerts of a site (its prime) and of a worker (the worker, their
employer). Anything hidden is answered as absent (404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import (
    AUDITORS,
    CurrentActor,
    LedgerDep,
    LevelReads,
    PrimeReads,
    ReadersDep,
    SiteReads,
    reads_as,
)
from api.openapi import AUTHENTICATED, problems
from api.paging import PageDep, text
from api.query_params import Month
from api.reading import Reading, Reads
from api.schemas.common import BusinessIdPath, Receipt, SiteIdPath, TechnicianIdPath
from api.schemas.kentaikyo import (
    AccountMonthPublic,
    AccountPublic,
    CoverageDayPublic,
    CoverageList,
    ExpiryAlertList,
    ExpiryAlertPublic,
    InsuranceRecordCreate,
    PurchaseCreate,
    QualificationExpiryCreate,
    RebateCredit,
    RebatesCredited,
    ReportDeadlinePublic,
    RequirementCreate,
    RosterLinePublic,
    RosterList,
    UseCreate,
    WagePaymentCreate,
    WorkAreaSet,
)
from ledger import clock
from ledger.actors import Role
from ledger.application import require_role
from ledger.domain.worker import InsuranceRecord
from ledger.errors import InvalidValue
from ledger.privacy import hidden, visible_site, visible_worker
from projections.queries.expiry_alerts import site_expiry_alerts, worker_expiry_alerts
from projections.queries.kentaikyo_accounts import (
    account_months,
    due_reminders,
    reconcile,
    report_deadlines,
)
from projections.queries.roster import site_roster_page
from projections.queries.scopes import account_scope, site_scope, worker_scope

router = APIRouter(tags=["kentaikyo"], responses=AUTHENTICATED)
CHANGES = problems(404, 409)
READS = problems(404)
AccountReads = Annotated[Reads, reads_as(Role.PRIME_CONTRACTOR, Role.EMPLOYER, *AUDITORS)]
WithinDays = Annotated[int | None, Query(ge=0, le=3650, description=(
    "Days ahead (default: the ledger's LEDGER_QUALIFICATION_ALERT_DAYS)"))]


# -- 入場時の確認: writes -------------------------------------------------------------------------
@router.post("/workers/{technician_id}/insurance-records", responses=CHANGES)
def record_social_insurance(
    technician_id: TechnicianIdPath, body: InsuranceRecordCreate, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """社会保険加入状況 as confirmed on a date, unconfirmed and exempt (with reason) included
    (admin, the worker's employer)."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER)
    visible_worker(ledger, actor, technician_id)
    record = InsuranceRecord(body.health, body.pension, body.employment, body.as_of,
                             tuple(body.exempt_reasons.items()))
    ledger.record_social_insurance(technician_id, record, actor)
    return Receipt(position=ledger.log_position())


@router.post("/workers/{technician_id}/qualification-expiries", responses=CHANGES)
def set_qualification_expiry(
    technician_id: TechnicianIdPath, body: QualificationExpiryCreate, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """有効期限 of a held qualification, set or renewed (admin, the employer, the worker)."""
    require_role(actor, Role.ADMIN, Role.EMPLOYER, Role.WORKER)
    visible_worker(ledger, actor, technician_id)
    ledger.set_qualification_expiry(technician_id, body.qualification, body.expires_on, actor)
    return Receipt(position=ledger.log_position())


@router.post("/sites/{site_id}/entry-checks", responses=CHANGES)
def require_entry_checks(
    site_id: SiteIdPath, actor: CurrentActor, ledger: LedgerDep, readers: ReadersDep,
) -> Receipt:
    """From now on the gate flags taps of workers off the roster or without confirmed social
    insurance (admin, the prime)."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR)
    visible_site(ledger, readers, actor, site_id)
    ledger.require_entry_checks(site_id, actor)
    return Receipt(position=ledger.log_position())


@router.post("/sites/{site_id}/required-qualifications", responses=CHANGES)
def require_qualification(
    site_id: SiteIdPath, body: RequirementCreate, actor: CurrentActor, ledger: LedgerDep,
    readers: ReadersDep,
) -> Receipt:
    """A qualification the site requires of a trade (admin, the prime)."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR)
    visible_site(ledger, readers, actor, site_id)
    ledger.require_qualification(site_id, body.qualification, body.trade, actor, body.work_area)
    return Receipt(position=ledger.log_position())


@router.post("/sites/{site_id}/required-qualifications/withdraw", responses=CHANGES)
def withdraw_qualification(
    site_id: SiteIdPath, body: RequirementCreate, actor: CurrentActor, ledger: LedgerDep,
    readers: ReadersDep,
) -> Receipt:
    """Withdraw a requirement (admin, the prime); taps before it keep their flags."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR)
    visible_site(ledger, readers, actor, site_id)
    ledger.withdraw_qualification(site_id, body.qualification, body.trade, actor,
                                  body.work_area)
    return Receipt(position=ledger.log_position())


@router.post("/sites/{site_id}/work-areas", responses=CHANGES)
def assign_work_area(
    site_id: SiteIdPath, body: WorkAreaSet, actor: CurrentActor, ledger: LedgerDep,
    readers: ReadersDep,
) -> Receipt:
    """作業区域: a gate of the site leads into a work area (admin, the prime)."""
    require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR)
    visible_site(ledger, readers, actor, site_id)
    ledger.assign_work_area(site_id, body.reader_id, body.work_area, actor)
    return Receipt(position=ledger.log_position())


@router.post("/sites/{site_id}/training-institution", responses=CHANGES)
def declare_training_institution(
    site_id: SiteIdPath, actor: CurrentActor, ledger: LedgerDep,
) -> Receipt:
    """CCUS登録教育訓練機関 (admin; the site's prime must be 振興基金): its site fee is borne by
    the CCUS business office."""
    ledger.declare_training_institution(site_id, actor)
    return Receipt(position=ledger.log_position())


# -- 建退共の口座: writes ----------------------------------------------------------------------
@router.post("/businesses/{business_id}/kentaikyo/purchases",
             status_code=status.HTTP_201_CREATED, responses=CHANGES)
def purchase_points(
    business_id: BusinessIdPath, body: PurchaseCreate, actor: CurrentActor, ledger: LedgerDep,
) -> Receipt:
    """退職金ポイント購入 (the contracting employer itself, admin)."""
    ledger.purchase_points(business_id, body.purchase_id, body.purchased_on, body.points,
                           body.ccus_linked, actor)
    return Receipt(position=ledger.log_position())


@router.post("/businesses/{business_id}/kentaikyo/uses", responses=CHANGES)
def use_points(
    business_id: BusinessIdPath, body: UseCreate, actor: CurrentActor, ledger: LedgerDep,
) -> Receipt:
    """充当: apply a report's points; more than the balance holds is a 409 naming the
    shortfall (`points.shortfall`) and uses nothing."""
    ledger.use_points(business_id, body.reference, body.used_on, body.points, actor,
                      tuple((d.technician_id, d.site_id, d.work_date) for d in body.days))
    return Receipt(position=ledger.log_position())


@router.post("/businesses/{business_id}/kentaikyo/wage-payments", responses=CHANGES)
def set_wage_payment_date(
    business_id: BusinessIdPath, body: WagePaymentCreate, actor: CurrentActor,
    ledger: LedgerDep,
) -> Receipt:
    """賃金支払日 of a work month: the report is due by the end of the month after it."""
    ledger.set_wage_payment_date(business_id, body.month, body.paid_on, actor)
    return Receipt(position=ledger.log_position())


@router.post("/businesses/{business_id}/kentaikyo/rebates", responses=CHANGES)
def credit_rebates(
    business_id: BusinessIdPath, body: RebateCredit, actor: CurrentActor, ledger: LedgerDep,
) -> RebatesCredited:
    """Credit the campaign rebates due on `credited_on` (admin)."""
    credited = ledger.credit_rebates(business_id, body.credited_on, actor)
    return RebatesCredited(position=ledger.log_position(), credited=credited)


# -- reads ------------------------------------------------------------------------------------
@router.get("/businesses/{business_id}/kentaikyo/account", responses=READS)
async def get_account(
    business_id: BusinessIdPath, first: Month, last: Month, reads: AccountReads,
    remind_days: Annotated[int, Query(ge=0, le=366)] = 14,
) -> AccountPublic:
    """The balance per month from `first` to `last`, the reports' due dates, and reminders."""

    def read_account(read: Reading) -> AccountPublic:
        owner = account_scope(read.tx, read.actor, business_id)
        if first > last:
            raise InvalidValue("first", "month.range", "is after last")
        today = clock.work_date_of(clock.now())
        return AccountPublic(
            business_id=owner,
            months=[AccountMonthPublic.model_validate(m)
                    for m in account_months(read.tx, owner, first, last)],
            deadlines=[ReportDeadlinePublic.model_validate(d)
                       for d in report_deadlines(read.tx, owner, first, last)],
            reminders=[ReportDeadlinePublic.model_validate(d)
                       for d in due_reminders(read.tx, owner, today, remind_days)],
            projection_position=read.position)

    return await reads.run(read_account)


@router.get("/sites/{site_id}/kentaikyo/coverage", responses=READS)
async def get_site_coverage(
    site_id: SiteIdPath, month: Month, reads: SiteReads, paging: PageDep,
) -> CoverageList:
    """Each worker-day of the month on the site: covered once, not covered, paid twice or not
    eligible, with the records and payments behind it (a subcontractor: its tiers' workers,
    and what was paid for them, the prime's payments included)."""

    def reconciled(read: Reading) -> CoverageList:
        page = paging.page()
        scope = site_scope(read.tx, read.actor, site_id)
        result = reconcile(read.tx, month, only_sites_of_prime=scope.prime_business_id,
                           only_sites=[site_id], employers=scope.employers)
        # Reconciled whole (the counts sum every day) over the site's workers that month: one
        # site's month, not its history (`kentaikyo_month` narrows to the site); paged from it.
        items, next_cursor = page.take(
            result.days, lambda d: (d.technician_id, d.work_date.isoformat()))
        return CoverageList(site_id=site_id, month=month, counts=result.counts(),
                            items=[CoverageDayPublic.model_validate(d) for d in items],
                            next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(reconciled)


@router.get("/sites/{site_id}/roster", responses=READS)
async def list_site_roster(site_id: SiteIdPath, reads: SiteReads, paging: PageDep) -> RosterList:
    """作業員名簿: each worker on the roster with their social insurance and the entry checks'
    flags of their latest tap (the prime; a subcontractor, its tiers' workers)."""

    def listed(read: Reading) -> RosterList:
        page = paging.page()
        scope = site_scope(read.tx, read.actor, site_id)
        lines = site_roster_page(read.tx, site_id, page.keyset(text), scope.employers)
        items, next_cursor = page.answer(lines, lambda r: (r.technician_id,))
        return RosterList(site_id=site_id, items=[RosterLinePublic.model_validate(r)
                                                  for r in items],
                          next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(listed)


@router.get("/sites/{site_id}/expiry-alerts", responses=READS)
async def list_site_expiry_alerts(
    site_id: SiteIdPath, reads: PrimeReads, paging: PageDep, within: WithinDays = None,
) -> ExpiryAlertList:
    """Qualifications of the workers on the site's roster expiring within `within` days, or
    expired (the prime, its site manager)."""

    def listed(read: Reading) -> ExpiryAlertList:
        page = paging.page()
        if site_scope(read.tx, read.actor, site_id).employers is not None:
            raise hidden("site_id", site_id)  # a subcontractor's key: not the site's roster
        days = _within(reads, within)
        alerts = site_expiry_alerts(read.tx, site_id, clock.work_date_of(clock.now()), days)
        # Qualifications of the roster's workers within the window: not yet paged in SQL.
        items, next_cursor = page.take(
            alerts, lambda a: (a.expires_on.isoformat(), a.technician_id, a.qualification))
        return ExpiryAlertList(within_days=days, items=[
            ExpiryAlertPublic.model_validate(a) for a in items],
            next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(listed)


@router.get("/workers/{technician_id}/expiry-alerts", responses=READS)
async def list_worker_expiry_alerts(
    technician_id: TechnicianIdPath, reads: LevelReads, paging: PageDep,
    within: WithinDays = None,
) -> ExpiryAlertList:
    """The worker's qualifications expiring within `within` days, or expired (the worker,
    their employer)."""

    def listed(read: Reading) -> ExpiryAlertList:
        page = paging.page()
        worker_scope(read.tx, read.actor, technician_id)
        days = _within(reads, within)
        alerts = worker_expiry_alerts(read.tx, technician_id, clock.work_date_of(clock.now()),
                                      days)
        # One worker's qualifications: a few, bounded by nature.
        items, next_cursor = page.take(
            alerts, lambda a: (a.expires_on.isoformat(), a.qualification))
        return ExpiryAlertList(within_days=days, items=[
            ExpiryAlertPublic.model_validate(a) for a in items],
            next_cursor=next_cursor, projection_position=read.position)

    return await reads.run(listed)


def _within(reads: Reads, within: int | None) -> int:
    return within if within is not None else reads.ledger.settings.qualification_alert_days

