"""``ledger-reader``: the gate reader agent (run), its spool (status, upload, requeue-dead) and a
tap-wave simulator (simulate)."""

from __future__ import annotations

import logging
import random
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledger.clock import JST, FixedClock, parse_date
from ledger.ids import ReaderId, SiteId
from readers.agent import GateAgent
from readers.backoff import Backoff
from readers.feedback import Feedback, LogFeedback
from readers.policy import parse_direction_mode
from readers.simulator import QuietFeedback, feed, plan_day
from readers.spool import Spool, SpoolError, SpoolStatus
from readers.uploader import SKEW_TOLERANCE, Uploader
from readers.wiring import make_profile, make_transport, setup_logging, spool_path

log = logging.getLogger("readers.gate")
app = typer.Typer(help="CCUS gate reader agent: card taps → local spool → ledger.",
                  no_args_is_help=True, add_completion=False)
console = Console()

ReaderIdOpt = Annotated[str, typer.Option("--reader-id", envvar="LEDGER_READER_ID",
                                          help="This reader's registered ID.")]
SpoolOpt = Annotated[Path | None, typer.Option(
    "--spool", envvar="LEDGER_READER_SPOOL", help="Spool file [default: var/reader-<id>.db].")]
TransportOpt = Annotated[str, typer.Option(
    "--transport", envvar="LEDGER_READER_TRANSPORT", help="http, or inprocess (single box).")]
ServerOpt = Annotated[str | None, typer.Option(
    "--server", envvar="LEDGER_READER_SERVER", help="Ledger API base URL (http transport).")]
TokenOpt = Annotated[str | None, typer.Option(
    "--token", envvar="LEDGER_READER_TOKEN", help="The reader's bearer token.")]
BatchOpt = Annotated[int, typer.Option(
    "--batch-size", help="Taps per upload (1-5000, the API's limit per request).")]
BackoffOpt = Annotated[float, typer.Option("--max-backoff",
                                           help="Longest wait between retries, seconds.")]
DirectionOpt = Annotated[str, typer.Option("--direction", help="in, out or auto.")]
DebounceOpt = Annotated[float, typer.Option(
    "--debounce", help="Seconds within which the same card again is the same tap.")]


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or Ctrl-C, so the agent stops between taps, never inside one."""
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _uploader(
    spool: Spool, transport: str, server: str | None, token: str | None, batch_size: int,
    max_backoff: float, feedback: Feedback | None = None,
) -> Uploader:
    return Uploader(spool, make_transport(transport, spool.reader_id, server, token),
                    batch_size=batch_size, backoff=Backoff(cap=max_backoff),
                    unauthorized_delay=max(max_backoff, 1.0), feedback=feedback)


@app.command()
def run(
    reader_id: ReaderIdOpt, spool: SpoolOpt = None,
    reader_name: Annotated[str | None, typer.Option(
        help="Watch only PC/SC readers whose name contains this.")] = None,
    profile: Annotated[str, typer.Option(help="APDU profile: uid or iso7816.")] = "uid",
    aid: Annotated[str | None, typer.Option(help="iso7816: application ID (hex).")] = None,
    file_id: Annotated[str | None, typer.Option(help="iso7816: EF file ID (hex).")] = None,
    id_offset: Annotated[int, typer.Option(help="iso7816: READ BINARY offset.")] = 0,
    id_length: Annotated[int, typer.Option(help="iso7816: bytes to read.")] = 14,
    id_encoding: Annotated[str, typer.Option(help="iso7816: ascii or bcd.")] = "ascii",
    direction: DirectionOpt = "auto", debounce: DebounceOpt = 10.0,
    transport: TransportOpt = "http", server: ServerOpt = None, token: TokenOpt = None,
    batch_size: BatchOpt = 1000, max_backoff: BackoffOpt = 60.0,
) -> None:
    """Watch a PC/SC reader: every card presented becomes a durable tap, uploaded in the back."""
    from readers.monitor import GateObserver, MonitorStopped, watch

    setup_logging()
    try:
        card_profile = make_profile(profile, aid, file_id, id_offset, id_length, id_encoding)
        the_spool = Spool(spool_path(spool, reader_id), reader_id)
        feedback = LogFeedback()  # the same gate tells the worker both when spooled and when
        # the ledger's answer flags the tap
        uploader = _uploader(the_spool, transport, server, token, batch_size, max_backoff,
                             feedback)
        agent = GateAgent(the_spool, mode=parse_direction_mode(direction),
                          debounce=timedelta(seconds=debounce), feedback=feedback,
                          on_spooled=uploader.wakeup.set)
    except (ValueError, SpoolError) as error:
        raise _fail(str(error)) from None
    with _stop_on_signals() as stop:
        uploader.start()
        try:
            watch(GateObserver(agent, card_profile, reader_name,
                               on_removed=lambda name: log.info("card left %s", name)), stop)
        except MonitorStopped as error:
            log.error("%s; exiting so the service manager restarts the agent", error)
            raise typer.Exit(1) from None
        finally:
            uploader.stop()
            the_spool.close()


@app.command()
def status(spool: SpoolOpt = None, reader_id: Annotated[str | None, typer.Option(
        "--reader-id", envvar="LEDGER_READER_ID")] = None) -> None:
    """Spool depth, oldest undelivered tap, last successful upload, clock offset, dead letters."""
    try:
        the_spool = Spool.open_existing(_existing_spool(spool, reader_id))
    except (ValueError, SpoolError) as error:
        raise _fail(str(error)) from None
    try:
        console.print(_status_table(the_spool.status()))
        dead = the_spool.dead_letters()
        if dead:
            table = Table("dead-lettered tap", "reader time", "reason", title="Dead letters")
            for tap, reason in dead:
                table.add_row(tap.tap_id, tap.reader_time.isoformat(timespec="seconds"), reason)
            console.print(table)
    finally:
        the_spool.close()


def _existing_spool(spool: Path | None, reader_id: str | None) -> Path:
    if spool is None and reader_id is None:
        raise ValueError("give --spool or --reader-id")
    return spool_path(spool, str(ReaderId(reader_id)) if spool is None else "")


def _status_table(state: SpoolStatus) -> Table:
    now = datetime.now(JST)
    table = Table(show_header=False, title=f"Reader {state.reader_id}")
    table.add_row("spool", str(state.path))
    table.add_row("pending (spool depth)", str(state.pending))
    oldest = state.oldest_pending
    table.add_row("oldest undelivered", "-" if oldest is None else
                  f"{oldest.tap_id} at {oldest.reader_time.isoformat(timespec='seconds')} "
                  f"({_age(now - oldest.reader_time)} ago)")
    last = state.last_upload_at
    table.add_row("last successful upload", "never" if last is None else
                  f"{last.astimezone(JST).isoformat(timespec='seconds')} ({_age(now - last)} ago)")
    table.add_row("delivered (kept)", str(state.delivered))
    table.add_row("dead letters", f"[red]{state.dead}[/red]" if state.dead else "0")
    table.add_row("clock offset", _offset(state.clock_offset_seconds))
    if state.last_error and state.last_error_at and (last is None or state.last_error_at > last):
        table.add_row("last error", f"[yellow]{state.last_error}[/yellow] "
                      f"({_age(now - state.last_error_at)} ago)")
    table.add_row("next tap ID", f"{state.reader_id}:{state.next_sequence}")
    return table


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


def _offset(seconds: float | None) -> str:
    if seconds is None:
        return "unknown (no upload yet)"
    text = f"{seconds:+.1f} s vs the ledger"
    flagged = abs(seconds) > SKEW_TOLERANCE.total_seconds()
    return f"[red]{text} — CLOCK SKEW, fix NTP[/red]" if flagged else text


@app.command()
def upload(
    reader_id: Annotated[str | None, typer.Option(
        "--reader-id", envvar="LEDGER_READER_ID")] = None,
    spool: SpoolOpt = None, transport: TransportOpt = "http", server: ServerOpt = None,
    token: TokenOpt = None, batch_size: BatchOpt = 1000, max_backoff: BackoffOpt = 60.0,
    exit_when_drained: Annotated[bool, typer.Option(
        help="Stop once the spool is empty instead of waiting for more.")] = False,
) -> None:
    """Only upload what the spool holds (e.g. after a crash, or from a second process)."""
    setup_logging()
    try:
        the_spool = Spool.open_existing(_existing_spool(spool, reader_id))
        uploader = _uploader(the_spool, transport, server, token, batch_size, max_backoff)
    except (ValueError, SpoolError) as error:
        raise _fail(str(error)) from None
    with _stop_on_signals() as stop:
        def stop_on_signal() -> None:
            stop.wait()
            uploader.stop(timeout=0)

        threading.Thread(target=stop_on_signal, daemon=True).start()
        try:
            uploader.run(until_drained=exit_when_drained)
        finally:
            stop.set()
            the_spool.close()


@app.command("requeue-dead")
def requeue_dead(spool: SpoolOpt = None, reader_id: Annotated[str | None, typer.Option(
        "--reader-id", envvar="LEDGER_READER_ID")] = None) -> None:
    """Queue dead-lettered taps again, once the cause of their rejection is fixed."""
    try:
        the_spool = Spool.open_existing(_existing_spool(spool, reader_id))
    except (ValueError, SpoolError) as error:
        raise _fail(str(error)) from None
    console.print(f"{the_spool.requeue_dead()} taps queued again")
    the_spool.close()


@app.command()
def simulate(
    site: Annotated[str, typer.Option(help="The site's 14-digit 現場ID.")],
    workers: Annotated[int, typer.Option(help="Workers on site.")] = 500,
    rate: Annotated[float, typer.Option(help="Cards per second (0: as fast as possible).")] = 50.0,
    day: Annotated[str | None, typer.Option(
        "--date", help="JST work date [default: today].")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same waves).")] = 1,
    reader_id: Annotated[str | None, typer.Option(help="[default: SIM-<site>].")] = None,
    spool: SpoolOpt = None, direction: DirectionOpt = "auto", debounce: DebounceOpt = 10.0,
    transport: TransportOpt = "http", server: ServerOpt = None, token: TokenOpt = None,
    batch_size: BatchOpt = 1000, max_backoff: BackoffOpt = 60.0,
    wait: Annotated[bool, typer.Option(help="Wait until the ledger has every tap.")] = True,
) -> None:
    """Morning and evening tap waves through the same spool and uploader as real cards."""
    setup_logging()
    try:
        site_id = str(SiteId(site))
        work_date = datetime.now(JST).date() if day is None else parse_date(day, "--date")
        reader = reader_id or f"SIM-{site_id}"
        the_spool = Spool(spool_path(spool, reader), reader)
        uploader = _uploader(the_spool, transport, server, token, batch_size, max_backoff)
        plan = plan_day(site_id, workers, work_date, random.Random(seed))
    except (ValueError, SpoolError) as error:
        raise _fail(str(error)) from None
    clock, feedback = FixedClock(plan[0].at), QuietFeedback()
    agent = GateAgent(the_spool, mode=parse_direction_mode(direction),
                      debounce=timedelta(seconds=debounce), feedback=feedback, clock=clock,
                      on_spooled=uploader.wakeup.set)
    with _stop_on_signals() as stop:
        uploader.start()
        try:
            presented = feed(agent, clock, plan, rate, stop)
            console.print(f"simulated {work_date}: {presented} cards presented, "
                          f"{feedback.accepted_count} taps spooled, {feedback.repeated_count} "
                          f"repeats debounced, {len(feedback.failures)} failed")
            while wait and not stop.is_set() and the_spool.status().pending:
                stop.wait(0.5)
        finally:
            uploader.stop()
            console.print(_status_table(the_spool.status()))
            the_spool.close()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
