"""Core commands: migrate, append taps, import tap files, list the event log."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.cli.common import ActingAs, command, console, err_console, open_ledger, parse_actor
from ledger import clock
from ledger.settings import get_settings
from ledger.storage.migrate import migrate
from ledger.tap_records import BadRecord, observation_from_mapping, read_tap_file

IMPORT_BATCH = 1000


@command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database tables (idempotent)."""
    settings = get_settings()
    applied = migrate(settings)
    target = "PostgreSQL" if settings.is_postgres else f"SQLite {settings.sqlite_path}"
    console.print(f"{target}: applied {len(applied)} migration(s) {' '.join(applied)}".strip(),
                  soft_wrap=True)  # one line, whatever the width: scripts read it


@command("tap")
def tap_command(
    reader_id: Annotated[str, typer.Option(help="The reader's ID")],
    sequence: Annotated[int, typer.Option(help="The reader's own sequence number for this tap")],
    card_id: Annotated[str | None, typer.Option(help="Card UID (hex)")] = None,
    technician_id: Annotated[str | None, typer.Option(help="14-digit technician ID")] = None,
    direction: Annotated[str, typer.Option(help="in, out or unknown")] = "unknown",
    reader_time: Annotated[str | None, typer.Option(help="ISO time; default now")] = None,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """Append one tap (as a reader would)."""
    observation = observation_from_mapping(
        {
            "tap_id": f"{reader_id}:{sequence}",
            "reader_id": reader_id,
            "card_id": card_id,
            "technician_id": technician_id,
            "direction": direction,
            "reader_time": reader_time or clock.now().isoformat(),
        }
    )
    with open_ledger() as ledger:
        receipt = ledger.record_taps([observation], parse_actor(acting_as))[0]
    console.print(f"{receipt.tap_id}: {receipt.status} (position {receipt.position})")


@command("import-taps")
def import_taps_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSONL or CSV")],
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = IMPORT_BATCH,
    acting_as: ActingAs = "system:import",
) -> None:
    """Import taps in batches; each batch is one transaction, so a rerun stores nothing twice."""
    actor = parse_actor(acting_as)
    counts: Counter[str] = Counter()
    bad: list[BadRecord] = []
    total_bytes = file.stat().st_size
    with (
        open_ledger() as ledger,
        Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("taps"),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("import", total=None)
        batch: list[Any] = []
        for _, item in read_tap_file(file):
            if isinstance(item, BadRecord):
                bad.append(item)
                continue
            batch.append(item)
            if len(batch) >= batch_size:
                counts.update(r.status for r in ledger.record_taps(batch, actor))
                progress.update(task, advance=len(batch))
                batch = []
        if batch:
            counts.update(r.status for r in ledger.record_taps(batch, actor))
            progress.update(task, advance=len(batch))
    for record in bad[:50]:
        err_console.print(f"[yellow]skipped[/yellow] {record}")
    if len(bad) > 50:
        err_console.print(f"[yellow]… and {len(bad) - 50} more bad lines[/yellow]")
    # a conflict (a tap ID stored before with other content) is kept for the site's staff
    conflicts = f", conflict {counts['conflict']}" if counts["conflict"] else ""
    console.print(
        f"{file.name} ({total_bytes} bytes): accepted {counts['accepted']}, "
        f"duplicate {counts['duplicate']}, rejected {len(bad)}{conflicts}"
    )


@command("events")
def events_command(
    worker: Annotated[str | None, typer.Option(help="Only events about this technician ID")] = None,
    site: Annotated[str | None, typer.Option(help="Only events about this site ID")] = None,
    after: Annotated[int, typer.Option(help="Start after this log position")] = 0,
    limit: Annotated[int, typer.Option(min=1)] = 100,
) -> None:
    """List the event log in recorded order, optionally about one worker or one site. An event
    is about the worker or site it names, or that its aggregate was created for (a worker's
    employment, a request's decision), or that its reader and card were registered to."""
    table = Table("position", "recorded at", "event", "actor", "about")
    about = EventSubjects()
    shown = 0
    with open_ledger() as ledger:
        # The registrations before --after still place the events after it.
        for _, event in ledger.iter_log(stop=after) if after > 0 else ():
            about.learn(event)
        for position, event in ledger.iter_log(after=after):
            technician, site_id = about.learn(event)
            if (worker and technician != worker) or (site and site_id != site):
                continue
            state = vars(event)
            named = " ".join(
                f"{k}={v}" for k, v in (("worker", technician), ("site", site_id)) if v
            )
            timestamp: datetime = state["timestamp"]
            table.add_row(
                str(position),
                timestamp.astimezone(clock.JST).isoformat(timespec="seconds"),
                type(event).__qualname__,
                str(state.get("actor", "")),
                named,
            )
            shown += 1
            if shown >= limit:
                break
    console.print(table)


class EventSubjects:
    """The worker and site each event is about, learnt from the log read in order: taps name a
    reader and a card (placed by their registrations), and an aggregate's later events (an
    employment confirmed, a request approved) are about what its first event named."""

    def __init__(self) -> None:
        self.reader_site: dict[str, str] = {}
        self.card_worker: dict[str, str] = {}
        self.aggregate: dict[Any, tuple[str | None, str | None]] = {}

    def learn(self, event: Any) -> tuple[str | None, str | None]:
        state = vars(event)
        kind = type(event).__qualname__
        if kind == "Reader.Registered":
            self.reader_site[state["reader_id"]] = state["site_id"]
        elif kind == "Card.Issued":
            self.card_worker[state["card_id"]] = state["technician_id"]
        first = self.aggregate.get(event.originator_id, (None, None))
        technician = (state.get("technician_id") or self.card_worker.get(state.get("card_id") or "")
                      or first[0])
        site_id = (state.get("site_id") or self.reader_site.get(state.get("reader_id") or "")
                   or first[1])
        if event.originator_version == 1:
            # Only the creation: a site's later roster event names a worker the site is not.
            self.aggregate[event.originator_id] = (technician, site_id)
        return technician, site_id
