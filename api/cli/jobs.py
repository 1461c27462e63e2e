"""Nightly jobs by hand: close a day, expire entries, settle Kentaikyo, bill site fees, seal and
verify the log; and `ledger scheduler` to run them on their schedule without the API."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli.common import ActingAs, app, command, console, err_console, open_ledger, parse_actor
from ledger import clock
from ledger.clock import parse_date, work_date_of
from ledger.domain.settlement import add_months, month_of, parse_month
from ledger.settings import get_settings
from ledger.storage.witness import WitnessDirectory, read_url
from projections.jobs.config import JobSettings
from projections.jobs.read_models import ReadModelsDiffer, verify_read_models
from projections.jobs.runs import ALREADY_DONE, LOCKED, RunResult, recent_job_runs, run_job
from projections.jobs.scheduler import (
    BILL,
    CLOSE_DAY,
    EXPIRE,
    SEAL,
    SETTLE,
    VERIFY_READ_MODELS,
    Jobs,
    start_scheduler,
)
from projections.jobs.seal_verify import read_public_key, verify_seals
from projections.read_model_check import DEFAULT_LIMIT
from projections.store import ReadStore

settle = typer.Typer(help="締め: monthly settlements.", no_args_is_help=True)
bill = typer.Typer(help="Bills.", no_args_is_help=True)
app.add_typer(settle, name="settle")
app.add_typer(bill, name="bill")

Month = Annotated[str | None, typer.Option("--month", help="YYYY-MM (default: last month)")]
Day = Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: yesterday, JST)")]

def _yesterday() -> str:
    return (work_date_of(clock.now()) - timedelta(days=1)).isoformat()

def _last_month() -> str:
    return add_months(month_of(work_date_of(clock.now())), -1)

def _run(job: str, period: str, acting_as: str) -> None:
    """Run by hand, under the job's lock and recorded like a scheduled run; a period done
    already is run again (each job is idempotent: it issues nothing twice)."""
    actor = parse_actor(acting_as)
    with open_ledger() as ledger:
        result = Jobs(ledger, get_settings(), actor=actor).run(job, period, force=True)
    _print(result)

def _print(result: RunResult) -> None:
    if result.outcome == LOCKED:
        err_console.print(f"{result.job} {result.period}: another process is running it; "
                          "try again later")
        sys.exit(1)
    if result.error is not None:
        raise result.error  # reported by `command` (a refusal exits 2)
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    done = " (done already)" if result.outcome == ALREADY_DONE else ""
    console.print(f"{result.job} {result.period}: {result.outcome}{done} — {counts}",
                  highlight=False)

@command("close-day")
def close_day_command(date: Day = None, acting_as: ActingAs = "system:cli") -> None:
    """日締め: close every open site's day (missing exits, unknown cards, silent readers)."""
    day = parse_date(date, "date").isoformat() if date else _yesterday()
    _run(CLOSE_DAY, day, acting_as)

@command("expire-entries")
def expire_entries_command(acting_as: ActingAs = "system:cli") -> None:
    """Expire manual entries and corrections still pending after their deadline."""
    _run(EXPIRE, work_date_of(clock.now()).isoformat(), acting_as)

@command("kentaikyo", group=settle)
def settle_kentaikyo_command(month: Month = None, acting_as: ActingAs = "system:cli") -> None:
    """建退共: issue a month's work report (就労実績報告) and its files, once."""
    period = month or _last_month()
    parse_month(period)
    _run(SETTLE, period, acting_as)

@command("site-fees", group=bill)
def bill_site_fees_command(month: Month = None, acting_as: ActingAs = "system:cli") -> None:
    """現場利用料: bill each prime contractor for a month (carrying small bills over)."""
    period = month or _last_month()
    parse_month(period)
    _run(BILL, period, acting_as)

@command("seal")
def seal_command(date: Day = None, acting_as: ActingAs = "system:cli") -> None:
    """Seal the log up to a day: one signed Merkle head a day, chained, copied to the
    witness."""
    day = parse_date(date, "date").isoformat() if date else _yesterday()
    _run(SEAL, day, acting_as)

@command("verify")
def verify_command(
    from_date: Annotated[str | None, typer.Option("--from", help="First sealed day to check")]
    = None,
    read_models: Annotated[bool, typer.Option(
        "--read-models", help="Check the read models instead: rebuild them from the log into a "
        "shadow and compare every table")] = False,
    limit: Annotated[int, typer.Option(min=1, help="With --read-models: differences shown")]
    = DEFAULT_LIMIT,
    witness: Annotated[list[str] | None, typer.Option(
        "--witness", help="Another copy of the signed heads to compare: a witness directory, or "
        "a ledger's base URL (its /v1/seals); repeat for several")] = None,
    public_key: Annotated[list[Path] | None, typer.Option(
        "--public-key", help="A trusted seal public key (PEM or base64), besides the key file's "
        "and the witness's first")] = None,
) -> None:
    """Recompute the seal chain from the stored events and check every signature; compare the
    seals with the seal table and the witness copies. Exit 1 naming the first event that
    differs and every copy that disagrees. With --read-models, compare the read models with a
    rebuild from the log; exit 1 naming the first differences."""
    if read_models:
        _verify_read_models(limit)
        return
    start = parse_date(from_date, "from") if from_date else None
    keys = [read_public_key(path) for path in public_key or []]
    copies = [read_url(where) if where.startswith(("http://", "https://"))
              else WitnessDirectory(Path(where)).read() for where in witness or []]
    with open_ledger() as ledger:
        store = ReadStore(get_settings())
        try:
            result = verify_seals(ledger, store, start, public_keys=keys, witnesses=copies)
        finally:
            store.close()
    for note in result.notes:
        console.print(f"  {note}", highlight=False, soft_wrap=True)
    if not result.ok:
        if result.first_mismatch is not None:
            err_console.print(f"[red]MISMATCH[/red] {result.first_mismatch}", highlight=False,
                              soft_wrap=True)
            err_console.print(f"checked {result.seals_checked} seal(s), "
                              f"{result.events_checked} event(s) before it")
        for problem in result.problems:
            err_console.print(f"[red]MISMATCH[/red] {problem}", highlight=False, soft_wrap=True)
        sys.exit(1)
    console.print(f"ok: {result.seals_checked} seal(s) ({result.signed_seals} signed, keys "
                  f"{', '.join(result.trusted_keys) or 'none'}), {result.events_checked} "
                  f"event(s) match; last sealed day {result.last_sealed_day}; "
                  f"{result.unsealed_events} event(s) recorded since", highlight=False,
                  soft_wrap=True)

def _verify_read_models(limit: int) -> None:
    """Run by hand as the nightly job runs: under its lock, recorded in job_runs (so
    /v1/ready shows the latest check, whoever ran it)."""
    settings = get_settings()
    lock_ttl = timedelta(seconds=JobSettings().lock_ttl_seconds)
    with open_ledger() as ledger:
        store = ReadStore(settings)
        try:
            result = run_job(store, VERIFY_READ_MODELS, work_date_of(clock.now()).isoformat(),
                             lambda: verify_read_models(ledger, settings, limit), force=True,
                             lock_ttl=lock_ttl)
        finally:
            store.close()
    if isinstance(result.error, ReadModelsDiffer):
        check = result.error.check
        for difference in check.differences:
            err_console.print(f"[red]DIFFERS[/red] {difference}", highlight=False, soft_wrap=True)
        err_console.print(f"{check.differing_groups} differing group(s) in "
                          f"{len(check.tables)} tables at position {check.position} "
                          f"(first {len(check.differences)} difference(s) shown)",
                          highlight=False)
        sys.exit(1)
    if result.outcome == LOCKED:
        _print(result)
    if result.error is not None:
        raise result.error
    console.print(f"ok: read models equal the log at position {result.counts['position']} "
                  f"({result.counts['tables']} tables, {result.counts['rows']} rows)",
                  highlight=False)

@command("job-runs")
def job_runs_command(
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first")] = 20,
) -> None:
    """List the latest job runs (scheduled and by hand)."""
    store = ReadStore(get_settings())
    try:
        runs = recent_job_runs(store, limit)
    finally:
        store.close()
    for run in runs:
        counts = ", ".join(f"{k} {v}" for k, v in run.counts.items())
        console.print(f"{_time(run.started_at)}  {run.job:<16} {run.period:<10} "
                      f"{run.outcome:<9} {counts or run.detail or ''}", highlight=False,
                      soft_wrap=True)


def _time(moment: Any) -> str:
    return "" if moment is None else moment.astimezone(clock.JST).isoformat(timespec="seconds")

@command("scheduler")
def scheduler_command() -> None:
    """Run the nightly jobs on their schedule (Asia/Tokyo) until stopped, without the API."""
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    settings = get_settings()
    with open_ledger() as ledger:
        store = ReadStore(settings)
        scheduler = start_scheduler(ledger, store, settings)
        console.print("scheduler running; jobs: " + ", ".join(
            f"{job.id} next {job.next_run_time}" for job in scheduler.get_jobs()),
            soft_wrap=True)  # one line, whatever the width: scripts and tests read it
        try:
            stop.wait()
        finally:
            scheduler.shutdown(wait=True)
            store.close()
