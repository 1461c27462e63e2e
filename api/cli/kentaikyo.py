"""`ledger kentaikyo …` (建退共の口座: points, reports, wage-payment dates, coverage) and the entry
checks' commands under `ledger site …` and `ledger worker …`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import ActingAs, app, command, console, open_ledger, parse_actor
from api.cli.register import Day, site, worker
from ledger.clock import parse_date
from ledger.domain.worker import InsuranceRecord
from ledger.settings import get_settings
from projections.follower import LogFollower
from projections.queries.kentaikyo_accounts import account_months, reconcile, report_deadlines
from projections.store import ReadStore

kentaikyo = typer.Typer(help="建退共の口座: points, reports, wage-payment dates, coverage.",
                        no_args_is_help=True)
app.add_typer(kentaikyo, name="kentaikyo")


@command("purchase", group=kentaikyo)
def purchase(
    business_id: str, purchase_id: str, purchased_on: Day, points: int,
    ccus_linked: Annotated[bool, typer.Option(help="CCUS-linked works (rebate rate)")] = False,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """退職金ポイント購入: points bought by a contracting employer."""
    with open_ledger() as ledger:
        ledger.purchase_points(business_id, purchase_id, parse_date(purchased_on, "purchased_on"),
                               points, ccus_linked, parse_actor(acting_as))
    console.print(f"{business_id}: {points} points bought ({purchase_id})")


@command("use", group=kentaikyo)
def use(
    business_id: str, reference: str, used_on: Day, points: int,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """充当: apply a report's points; a shortfall is refused, naming how many are missing."""
    with open_ledger() as ledger:
        ledger.use_points(business_id, reference, parse_date(used_on, "used_on"), points,
                          parse_actor(acting_as))
    console.print(f"{business_id}: {points} points applied to {reference}")


@command("wage-paid", group=kentaikyo)
def wage_paid(business_id: str, month: str, paid_on: Day, acting_as: ActingAs = "admin:cli"
              ) -> None:
    """賃金支払日 of a work month (the report is due by the end of the month after it)."""
    with open_ledger() as ledger:
        ledger.set_wage_payment_date(business_id, month, parse_date(paid_on, "paid_on"),
                                     parse_actor(acting_as))
    console.print(f"{business_id}: wages of {month} paid on {paid_on}")


@command("credit-rebates", group=kentaikyo)
def credit_rebates(business_id: str, credited_on: Day) -> None:
    """Credit the campaign rebates due on a day (admin)."""
    with open_ledger() as ledger:
        credited = ledger.credit_rebates(business_id, parse_date(credited_on, "credited_on"),
                                         parse_actor("admin:cli"))
    console.print(f"{business_id}: {credited} rebate(s) credited")


@command("account", group=kentaikyo)
def account(business_id: str, first: str, last: str) -> None:
    """The balance per month and the reports' due dates (read models, caught up first)."""
    with open_ledger() as ledger:
        store = ReadStore(get_settings())
        try:
            LogFollower(ledger, store).catch_up()
            months = account_months(store, business_id, first, last)
            deadlines = {d.month: d for d in report_deadlines(store, business_id, first, last)}
        finally:
            store.close()
    table = Table("month", "opening", "bought", "credited", "used", "closing", "wages paid",
                  "report due", "applied")
    for m in months:
        d = deadlines[m.month]
        table.add_row(m.month, str(m.opening), str(m.purchased), str(m.credited), str(m.used),
                      str(m.closing), str(d.wage_paid_on), str(d.due_on), "yes" if d.applied
                      else "no")
    console.print(table)


@command("coverage", group=kentaikyo)
def coverage(month: str, technician_id: Annotated[str | None, typer.Option()] = None) -> None:
    """掛金充当の突合: each worker-day of the month, covered once / not covered / paid twice /
    not eligible (admin's view: every site)."""
    with open_ledger() as ledger:
        store = ReadStore(get_settings())
        try:
            LogFollower(ledger, store).catch_up()
            result = reconcile(store, month, technician_id=technician_id)
        finally:
            store.close()
    table = Table("worker", "date", "coverage", "paid", "sites", "why")
    for day in result.days:
        table.add_row(day.technician_id, str(day.work_date), day.coverage.value, str(day.paid),
                      ",".join(day.site_ids), ",".join(day.reasons))
    console.print(table)
    console.print(result.counts())


@command("require-entry-checks", group=site)
def require_entry_checks(site_id: str, acting_as: ActingAs = "admin:cli") -> None:
    """入場時の確認: flag taps of workers off the roster or without confirmed insurance."""
    with open_ledger() as ledger:
        ledger.require_entry_checks(site_id, parse_actor(acting_as))
    console.print(f"site {site_id}: entry checks required")


@command("require-qualification", group=site)
def require_qualification(site_id: str, qualification: str,
                          trade: Annotated[str, typer.Option(help="'' = every trade")] = "",
                          work_area: Annotated[str, typer.Option(
                              help="'' = the whole site")] = "",
                          acting_as: ActingAs = "admin:cli") -> None:
    """A qualification the site requires of a trade, in a work area."""
    with open_ledger() as ledger:
        ledger.require_qualification(site_id, qualification, trade, parse_actor(acting_as),
                                     work_area)
    console.print(f"site {site_id}: {qualification} required of {trade or 'every trade'}")


@command("work-area", group=site)
def work_area(site_id: str, reader_id: str, area: str, acting_as: ActingAs = "admin:cli"
              ) -> None:
    """作業区域: the reader's gate leads into AREA ('' : the site at large)."""
    with open_ledger() as ledger:
        ledger.assign_work_area(site_id, reader_id, area, parse_actor(acting_as))
    console.print(f"site {site_id}: reader {reader_id} leads into {area or 'the site'}")


@command("insurance", group=worker)
def insurance(technician_id: str, health: str, pension: str, employment: str, as_of: Day,
              exempt: Annotated[list[str] | None, typer.Option(
                  help="scheme=reason for an exempt scheme (repeat)")] = None,
              acting_as: ActingAs = "admin:cli") -> None:
    """社会保険加入状況: enrolled / exempt / not_enrolled / unconfirmed per scheme."""
    reasons = tuple(tuple(item.split("=", 1)) for item in exempt or [] if "=" in item)
    record = InsuranceRecord(health, pension, employment,  # type: ignore[arg-type]
                             parse_date(as_of, "as_of"), reasons)  # type: ignore[arg-type]
    with open_ledger() as ledger:
        ledger.record_social_insurance(technician_id, record, parse_actor(acting_as))
    console.print(f"worker {technician_id}: social insurance recorded as of {as_of}")


@command("qualification-expiry", group=worker)
def qualification_expiry(technician_id: str, qualification: str, expires_on: Day,
                         acting_as: ActingAs = "admin:cli") -> None:
    """有効期限 of a held qualification (set, or renewed)."""
    with open_ledger() as ledger:
        ledger.set_qualification_expiry(technician_id, qualification,
                                         parse_date(expires_on, "expires_on"),
                                         parse_actor(acting_as))
    console.print(f"worker {technician_id}: {qualification} valid through {expires_on}")
