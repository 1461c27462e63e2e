"""Projection commands: catch up, follow, rebuild, and replay "as of" a past moment."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Annotated

import typer
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

from api.cli.common import command, console, err_console, open_ledger
from ledger.clock import parse_datetime
from ledger.errors import InvalidValue
from ledger.settings import get_settings
from projections.replay import rebuild, replay_as_of
from projections.runner import ProjectionRunner
from projections.store import ReadStore


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
        runner = ProjectionRunner(ledger, store)
        if follow:
            console.print("following the event log; Ctrl-C to stop")
            with contextlib.suppress(KeyboardInterrupt):
                runner.run_forever(threading.Event())
        else:
            processed = runner.catch_up()
            console.print(f"processed {processed} events; position {runner.position()}")
        store.close()


@command("replay")
def replay_command(
    projection: Annotated[str, typer.Option(help=f"One of {', '.join(PROJECTIONS)}")] = "ledger",
    as_of: Annotated[
        str | None,
        typer.Option(help="ISO time, e.g. 2025-06-30T23:59:59+09:00: the ledger as it was then"),
    ] = None,
    into: Annotated[Path, typer.Option(help="With --as-of: the SQLite file to write")] = Path(
        "var/as-of.db"
    ),
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
        bar, task = progress_bar(ledger.log_position())
        with bar:

            def advance(count: int) -> None:
                bar.update(task, advance=count)

            if as_of is None:
                processed = rebuild(ledger, get_settings(), progress=advance)
                console.print(f"rebuilt {projection} from {processed} events and swapped it in")
                return
            moment = parse_datetime(as_of, "--as-of")
            into.parent.mkdir(parents=True, exist_ok=True)
            store = replay_as_of(ledger, moment, into, progress=advance)
            store.close()
    console.print(
        f"the ledger as of {moment.isoformat()} is in {into} (SQLite); "
        "query it with LEDGER_DATABASE_URL=sqlite:///" + str(into.resolve())
    )
