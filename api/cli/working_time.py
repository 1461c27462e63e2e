"""勤怠: report working time, record a 36 agreement and disaster work, set a site's terms, and
print an employer's overtime monitor."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import ActingAs, app, command, console, open_ledger, parse_actor
from ledger.clock import parse_date
from ledger.settings import get_settings
from projections.follower import LogFollower
from projections.kentaikyo import month_bounds
from projections.queries.working_time import monitor
from projections.store import ReadStore

working_time = typer.Typer(help="勤怠: working time, 36 agreements, 週休2日.",
                           no_args_is_help=True)
app.add_typer(working_time, name="working-time")

Minutes = Annotated[int, typer.Argument(help="minutes")]
Reason = Annotated[str | None, typer.Option(help="Why (required to correct a report)")]
Employer = Annotated[str | None, typer.Option(help="The employer (admin names it)")]


@command("report-day", group=working_time)
def report_day(
    technician_id: str, work_date: str, statutory: Minutes, overtime: Minutes,
    holiday: Minutes = 0, employer: Employer = None, reason: Reason = None,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """A worker-day's hours (statutory, overtime, holiday work) as the employer reports them."""
    with open_ledger() as ledger:
        ledger.report_working_day(technician_id, parse_date(work_date, "work_date"), statutory,
                                  overtime, holiday, parse_actor(acting_as), employer, reason)
    console.print(f"{technician_id}: {work_date} reported")


@command("report-month", group=working_time)
def report_month(
    technician_id: str, month: str, statutory: Minutes, overtime: Minutes,
    holiday: Minutes = 0, employer: Employer = None, reason: Reason = None,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """A month's totals (YYYY-MM), for an employer that keeps no daily figures."""
    first, _ = month_bounds(month)
    with open_ledger() as ledger:
        ledger.report_working_month(technician_id, first, statutory, overtime, holiday,
                                    parse_actor(acting_as), employer, reason)
    console.print(f"{technician_id}: {month} reported")


@command("agreement", group=working_time)
def agreement(
    business_id: str, start_month: str,
    special_clause: Annotated[bool, typer.Option(help="特別条項")] = False,
    reason: Reason = None, acting_as: ActingAs = "admin:cli",
) -> None:
    """36協定: from START_MONTH (YYYY-MM), one year at a time."""
    first, _ = month_bounds(start_month)
    with open_ledger() as ledger:
        ledger.conclude_overtime_agreement(business_id, first, special_clause,
                                           parse_actor(acting_as), reason)
    console.print(f"{business_id}: 36 agreement from {start_month} recorded")


@command("disaster-work", group=working_time)
def disaster_work(
    business_id: str, first_day: str, last_day: str, reason: str,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """災害時の臨時の必要: the 100 h and 80 h limits are lifted for the period's months."""
    with open_ledger() as ledger:
        ledger.declare_disaster_work(business_id, parse_date(first_day, "first_day"),
                                     parse_date(last_day, "last_day"), reason,
                                     parse_actor(acting_as))
    console.print(f"{business_id}: disaster work {first_day}…{last_day} declared")


@command("exclude", group=working_time)
def exclude(
    site_id: str, first_day: str, last_day: str, kind: str, reason: str,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """A period the site's closure rate leaves out (year_end, summer, off_site_fabrication,
    other)."""
    with open_ledger() as ledger:
        ledger.exclude_closure_period(site_id, parse_date(first_day, "first_day"),
                                      parse_date(last_day, "last_day"), kind, reason,
                                      parse_actor(acting_as))
    console.print(f"site {site_id}: {first_day}…{last_day} excluded")


@command("orderer", group=working_time)
def orderer(site_id: str, orderer_business_id: str, acting_as: ActingAs = "admin:cli") -> None:
    """発注者: name the site's orderer (it reads the site's aggregates only)."""
    with open_ledger() as ledger:
        ledger.name_site_orderer(site_id, orderer_business_id, parse_actor(acting_as))
    console.print(f"site {site_id}: orderer {orderer_business_id}")


@command("monitor", group=working_time)
def print_monitor(business_id: str, month: str) -> None:
    """The employer's overtime monitor for MONTH (YYYY-MM): each worker's figures and limits."""
    first, last = month_bounds(month)
    with open_ledger() as ledger:
        store = ReadStore(get_settings())
        LogFollower(ledger, store).catch_up()
        with store.read() as tx:
            rows = monitor(tx, business_id, first, last,
                           break_minutes=ledger.settings.working_time_break_minutes)
        store.close()
    table = Table("worker", "overtime h", "holiday h", "year h", "estimated", "limits", "notice")
    for row in rows:
        j = row.judgment
        table.add_row(row.technician_id, f"{j.overtime / 60:.1f}", f"{j.holiday / 60:.1f}",
                      f"{j.year_overtime / 60:.1f}", "estimate" if row.estimated else "",
                      " ".join(f"{k.value}={v.value}" for k, v in j.limits.items()),
                      "owed" if j.notice_owed else "")
    console.print(table)
