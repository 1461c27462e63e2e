"""Audit commands: the events behind a read-model answer."""

from __future__ import annotations

import typer
from rich.table import Table

from api.cli.common import app, command, console, open_ledger
from ledger.clock import JST, parse_date
from ledger.errors import UnknownReference
from ledger.ids import SiteId, TechnicianId
from ledger.settings import get_settings
from projections.audit import audit_work_record
from projections.follower import LogFollower
from projections.store import ReadStore

audit = typer.Typer(help="Why the ledger says what it says.", no_args_is_help=True)
app.add_typer(audit, name="audit")


@command("work-record", group=audit)
def audit_work_record_command(technician_id: str, site_id: str, work_date: str) -> None:
    """The events behind one work record, in log order, with actor, time and reason."""
    technician_id, site_id = TechnicianId(technician_id), SiteId(site_id)
    day = parse_date(work_date, "work_date")
    with open_ledger() as ledger:
        store = ReadStore(get_settings())
        LogFollower(ledger, store).catch_up()
        with store.read() as tx:
            entries = audit_work_record(ledger, tx, technician_id, site_id, day)
        store.close()
    if not entries:
        raise UnknownReference(
            "work_record",
            "work_record.exists",
            f"no work record for {technician_id} at {site_id} on {day}",
        )
    table = Table("position", "recorded at (JST)", "event", "actor", "about", "reason")
    for entry in entries:
        table.add_row(
            str(entry.position),
            entry.recorded_at.astimezone(JST).isoformat(timespec="seconds"),
            entry.event_type,
            entry.actor or "",
            str(entry.business_time or ""),
            entry.reason or "",
        )
    console.print(table)
