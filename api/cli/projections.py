"""Projection commands: catch up, follow, rebuild, replay "as of" a past moment, and the events
the projection quarantined (list, retry)."""

from __future__ import annotations

import contextlib
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from api.cli.common import app, command, console, err_console, open_ledger
from ledger.application import Ledger
from ledger.clock import parse_datetime
from ledger.errors import InvalidValue
from ledger.settings import get_settings
from projections.follower import LogFollower
from projections.quarantine import QuarantinedEvent, quarantined
from projections.quarantine_retry import retry
from projections.replay import LogCut, cut_at, rebuild, replay_as_of
from projections.store import ReadStore

quarantine_group = typer.Typer(
    help="Events the projection could not project and went on without.", no_args_is_help=True
)
app.add_typer(quarantine_group, name="quarantine")


class TransferSpeedColumn(TextColumn):
    """Events per second."""

    def __init__(self) -> None:
        super().__init__("")

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} ev/s")


PROJECTIONS = ("ledger",)  # registries, taps, requests and work records, kept in one pass


def progress_bar(total: int) -> tuple[Progress, TaskID]:
    bar = Progress(
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TaskProgressColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    return bar, bar.add_task("replay", total=total)


@command("project")
def project_command(
    follow: Annotated[bool, typer.Option(help="Keep following the log")] = False,
) -> None:
    """Bring the read models up to the head of the log (or keep following it)."""
    with open_ledger() as ledger:
        store = ReadStore(get_settings())
        runner = LogFollower(ledger, store)
        if follow:
            console.print("following the event log; Ctrl-C to stop")
            with contextlib.suppress(KeyboardInterrupt):
                runner.run_forever(threading.Event())
        else:
            processed = runner.catch_up()
            console.print(f"processed {processed} events; position {runner.position()}")
            warn_of_quarantine(store)
        store.close()


@command("replay")
def replay_command(
    projection: Annotated[str, typer.Option(help=f"One of {', '.join(PROJECTIONS)}")] = "ledger",
    as_of: Annotated[
        str | None,
        typer.Option(help="ISO time, e.g. 2025-06-30T23:59:59+09:00: the ledger as it was then"),
    ] = None,
    into: Annotated[Path | None, typer.Option(
        help="With --as-of: the SQLite file to write (relative to the working directory) "
        "[default: as-of.db in the database's replay folder]")] = None,
) -> None:
    """Rebuild the read models from the whole log and swap them in atomically, or (--as-of)
    replay into a separate file without touching the live tables."""
    if projection not in PROJECTIONS:
        raise InvalidValue(
            "--projection",
            "projection.known",
            f"{projection!r} is not one of {', '.join(PROJECTIONS)}",
        )
    with open_ledger() as ledger:
        moment = None if as_of is None else parse_datetime(as_of, "--as-of")
        # As of a moment, the log is read up to its cut only (projections.replay.cut_at).
        cut = None if moment is None else cut_at_moment(ledger, moment)
        bar, task = progress_bar(ledger.log_position() if cut is None else cut.events)
        with bar:

            def advance(count: int) -> None:
                bar.update(task, advance=count)

            if as_of is None:
                processed = rebuild(ledger, get_settings(), progress=advance)
                console.print(f"rebuilt {projection} from {processed} events and swapped it in")
                store = ReadStore(get_settings())
                warn_of_quarantine(store)
                store.close()
                return
            assert moment is not None and cut is not None
            into = into or get_settings().replay_home / "as-of.db"
            into.parent.mkdir(parents=True, exist_ok=True)
            store = replay_as_of(ledger, moment, into, progress=advance, cut=cut)
            store.close()
    console.print(
        f"the ledger as of {moment.isoformat()} (the log up to position {cut.position}) is in "
        f"{into} (SQLite); "
        "query it with LEDGER_DATABASE_URL=sqlite:///" + str(into.resolve())
    )


def cut_at_moment(ledger: Ledger, moment: datetime) -> LogCut:
    store = ReadStore(get_settings())
    try:
        return cut_at(ledger, store, moment)
    finally:
        store.close()


def warn_of_quarantine(store: ReadStore) -> None:
    with store.read() as tx:
        held = quarantined(tx)
    if held:
        err_console.print(
            f"[yellow]{len(held)} event(s) quarantined[/yellow] (positions "
            f"{', '.join(str(event.position) for event in held[:10])}"
            f"{' …' if len(held) > 10 else ''}): see `ledger quarantine list`"
        )


def describe_event(event: QuarantinedEvent) -> str:
    about = ", ".join(f"{name} {value}" for name, value in
                      (("worker", event.technician_id), ("site", event.site_id)) if value)
    return (f"position {event.position}  {event.event_type}  {about or 'worker/site unknown'}\n"
            f"  {event.error_kind}: {event.error_message}\n"
            f"  first seen {event.first_seen_at.isoformat()}, last tried "
            f"{event.last_tried_at.isoformat()}, {event.attempts} attempt(s)")


@command("list", group=quarantine_group)
def quarantine_list() -> None:
    """List the quarantined events in log order, with their error and worker/site."""
    store = ReadStore(get_settings())
    try:
        with store.read() as tx:
            held = quarantined(tx)
    finally:
        store.close()
    if not held:
        console.print("no event is quarantined")
        return
    for event in held:
        console.print(escape(describe_event(event)), highlight=False)


@command("retry", group=quarantine_group)
def quarantine_retry(
    position: Annotated[int | None, typer.Argument(help="One event's log position (default: "
                                                   "every quarantined event)")] = None,
) -> None:
    """Project the quarantined events again, after a fix. Taps and requests are projected in
    place, and the jobs' events (day closes, seals, settlements, fee bills) by the jobs'
    projection in place; any other event rebuilds the read models (as `ledger replay`), so the
    result equals a rebuild either way. Exits 1 if any event still fails."""
    settings = get_settings()
    store = ReadStore(settings)
    try:
        with store.read() as tx:
            known = quarantined(tx, position)
    finally:
        store.close()
    if position is not None and not known:
        raise InvalidValue("position", "quarantine.known", f"no event at {position} is quarantined")
    if not known:
        console.print("no event is quarantined")
        return
    with open_ledger() as ledger:
        outcome = retry(ledger, settings, position)
    how = "by rebuilding the read models" if outcome.rebuilt else "in place"
    if outcome.projected:
        console.print(f"projected {how}: positions "
                      f"{', '.join(map(str, outcome.projected))}")
    for event in outcome.still_quarantined:
        err_console.print("[red]still quarantined[/red] " + escape(describe_event(event)),
                          highlight=False)
    if outcome.still_quarantined:
        sys.exit(1)
