"""Job runs: each run is recorded (job, period, start, end, outcome, counts) in ``job_runs``, under
the job's lock, and the same job for the same period is not run again once it succeeded."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from ledger import clock
from ledger.errors import LedgerError
from projections.jobs.locks import job_lock, owner_name
from projections.store import ReadStore, as_datetime

log = logging.getLogger("projections.jobs")

SUCCEEDED, FAILED, RUNNING = "succeeded", "failed", "running"
LOCKED, ALREADY_DONE = "locked", "already_done"  # outcomes of a run that did not happen
DEFAULT_LOCK_TTL = timedelta(hours=2)


@dataclass(frozen=True)
class JobRun:
    run_id: str
    job: str
    period: str
    owner: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, Any]
    detail: str | None


@dataclass(frozen=True)
class RunResult:
    job: str
    period: str
    outcome: str  # succeeded | failed | locked | already_done
    counts: Mapping[str, Any] = field(default_factory=dict)
    error: BaseException | None = None

    @property
    def ran(self) -> bool:
        return self.outcome in (SUCCEEDED, FAILED)


class JobFindings(Exception):
    """A run that went to its end and found something wrong (a check that failed): recorded as
    failed, with the counts of what it found."""

    def __init__(self, message: str, counts: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.counts = dict(counts)


def run_job(
    store: ReadStore,
    job: str,
    period: str,
    work: Callable[[], Mapping[str, Any]],
    *,
    force: bool = False,
    lock_ttl: timedelta = DEFAULT_LOCK_TTL,
) -> RunResult:
    """Run `work` under the job's lock and record it. Without `force`, a period that already
    succeeded is not run again (a second scheduler, or a catch-up after the scheduled run)."""
    with job_lock(store, job, lock_ttl) as held:
        if not held:
            log.info("%s %s: another process holds the lock; not run", job, period)
            return RunResult(job, period, LOCKED)
        if not force and succeeded(store, job, period):
            return RunResult(job, period, ALREADY_DONE)
        _abandon(store, job)
        run_id = _start(store, job, period)
        try:
            counts = dict(work())
        except Exception as error:  # recorded, then reported to the caller
            if isinstance(error, LedgerError):
                # A refusal (a day not over, a month not closed) is the caller's to report; a
                # traceback would only hide its one line.
                log.warning("%s %s refused: %s", job, period, error)
            else:
                log.exception("%s %s failed", job, period)
            found = error.counts if isinstance(error, JobFindings) else {}
            _finish(store, run_id, FAILED, found, f"{type(error).__name__}: {error}")
            return RunResult(job, period, FAILED, found, error)
        _finish(store, run_id, SUCCEEDED, counts, None)
        log.info("%s %s succeeded: %s", job, period, counts)
        return RunResult(job, period, SUCCEEDED, counts)


def _abandon(store: ReadStore, job: str) -> None:
    # We hold the lock, so a run still marked running died with its process.
    with store.transaction() as tx:
        tx.execute("UPDATE job_runs SET outcome = %s, finished_at = %s, detail = %s "
                   "WHERE job = %s AND outcome = %s",
                   [FAILED, clock.now(), "abandoned: its process ended during the run", job,
                    RUNNING])


def _start(store: ReadStore, job: str, period: str) -> str:
    run_id = uuid.uuid4().hex
    with store.transaction() as tx:
        tx.execute("INSERT INTO job_runs (run_id, job, period, owner, started_at, outcome, counts) "
                   "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                   [run_id, job, period, owner_name(), clock.now(), RUNNING, "{}"])
    return run_id


def _finish(
    store: ReadStore, run_id: str, outcome: str, counts: Mapping[str, Any], detail: str | None
) -> None:
    with store.transaction() as tx:
        tx.execute("UPDATE job_runs SET finished_at = %s, outcome = %s, counts = %s, detail = %s "
                   "WHERE run_id = %s",
                   [clock.now(), outcome, orjson.dumps(counts).decode(), detail, run_id])


def succeeded(store: ReadStore, job: str, period: str) -> bool:
    with store.read() as tx:
        return bool(tx.execute("SELECT 1 FROM job_runs WHERE job = %s AND period = %s "
                               "AND outcome = %s", [job, period, SUCCEEDED]))


def last_succeeded_period(store: ReadStore, job: str) -> str | None:
    """The latest period (ISO day or month, so text order is time order) that succeeded."""
    with store.read() as tx:
        rows = tx.execute("SELECT MAX(period) FROM job_runs WHERE job = %s AND outcome = %s",
                          [job, SUCCEEDED])
    return rows[0][0] if rows and rows[0][0] is not None else None


def last_finished_run(store: ReadStore, job: str) -> JobRun | None:
    """The latest run of a job that ended (succeeded or failed)."""
    with store.read() as tx:
        rows = tx.execute(
            "SELECT run_id, job, period, owner, started_at, finished_at, outcome, counts, detail "
            "FROM job_runs WHERE job = %s AND outcome IN (%s, %s) "
            "ORDER BY finished_at DESC, run_id LIMIT 1", [job, SUCCEEDED, FAILED])
    return _job_run(rows[0]) if rows else None


def recent_job_runs(store: ReadStore, limit: int = 50) -> list[JobRun]:
    """The latest runs, newest first: for the API's health endpoint."""
    with store.read() as tx:
        rows = tx.execute(
            "SELECT run_id, job, period, owner, started_at, finished_at, outcome, counts, detail "
            "FROM job_runs ORDER BY started_at DESC, run_id LIMIT %s", [limit])
    return [_job_run(row) for row in rows]


def _job_run(row: tuple[Any, ...]) -> JobRun:
    run_id, job, period, owner, started, finished, outcome, counts, detail = row
    return JobRun(run_id, job, period, owner, as_datetime(started), as_datetime(finished),  # type: ignore[arg-type]
                  outcome, orjson.loads(counts), detail)
