"""The nightly schedule (APScheduler 3, Asia/Tokyo), and catching up on runs that were missed.

Every trigger, and the catch-up when the service starts, does the same thing for a job: work out
which periods (days or months) are due by now and have no successful run in ``job_runs``, and run
each in order under the job's lock. A run missed while the service was down is therefore made up
when it comes back; two services never run one job at once, and a period done is not redone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from ledger import clock
from ledger.actors import SYSTEM, Actor
from ledger.application import Ledger
from ledger.domain.settlement import add_months, month_of
from ledger.settings import Settings
from projections.jobs.config import JobSettings
from projections.jobs.day_close import close_day
from projections.jobs.expiry import expire_entries
from projections.jobs.kentaikyo import settle_kentaikyo
from projections.jobs.read_models import verify_read_models
from projections.jobs.runs import RunResult, last_succeeded_period, run_job
from projections.jobs.seal import seal_days
from projections.jobs.site_fees import bill_site_fees
from projections.store import ReadStore

log = logging.getLogger("projections.jobs")

CLOSE_DAY, EXPIRE, SEAL, SETTLE, BILL = (
    "close-day", "expire-entries", "seal", "settle-kentaikyo", "bill-site-fees")
VERIFY_READ_MODELS = "verify-read-models"
JOB_NAMES = (CLOSE_DAY, EXPIRE, SEAL, SETTLE, BILL, VERIFY_READ_MODELS)
DAILY = {CLOSE_DAY, EXPIRE, SEAL, VERIFY_READ_MODELS}
# Jobs about their run date itself, not the day before.
ABOUT_RUN_DATE = {EXPIRE, VERIFY_READ_MODELS}
# The read-model check is about the read models as they are now, not about a period: checks
# missed are not run one per missed day, and the service's start does not make one up (a full
# rebuild while the service comes back); the next scheduled one runs.
LATEST_ONLY = {VERIFY_READ_MODELS}
CAUGHT_UP_ON_START = (CLOSE_DAY, EXPIRE, SEAL, SETTLE, BILL)


@dataclass(frozen=True)
class Schedule:
    """When each job is due, in the scheduler's time zone."""

    at: Mapping[str, time]
    day_of_month: Mapping[str, int]

    @classmethod
    def from_settings(cls, s: JobSettings) -> Schedule:
        return cls(
            {CLOSE_DAY: s.close_day_at, EXPIRE: s.expire_entries_at, SEAL: s.seal_at,
             SETTLE: s.settle_at, BILL: s.bill_at, VERIFY_READ_MODELS: s.verify_read_models_at},
            {SETTLE: s.settle_day, BILL: s.bill_day},
        )


def due_periods(
    job: str, now: datetime, last_success: str | None, schedule: Schedule, tz: ZoneInfo,
    catch_up_days: int = 7, catch_up_months: int = 3,
) -> list[str]:
    """Periods of `job` whose scheduled time has passed by `now` and that come after the last
    successful one, oldest first, at most `catch_up_*` of them. With no run ever, only the latest.

    close-day and seal are about the previous day; expire-entries and verify-read-models about
    today (the run date); settle and bill about the month before the one their day of the month
    falls in. verify-read-models is due for its latest period only.
    """
    local = now.astimezone(tz)
    at = schedule.at[job]
    if job in DAILY:
        latest = local.date() if local.time() >= at else local.date() - timedelta(days=1)
        if job not in ABOUT_RUN_DATE:
            latest -= timedelta(days=1)  # the day being closed or sealed is the one before
        days = [latest - timedelta(days=k) for k in range(catch_up_days - 1, -1, -1)]
        periods = [d.isoformat() for d in days]
    else:
        run_month = month_of(local.date())
        day = schedule.day_of_month[job]
        if (local.day, local.time()) < (day, at):
            run_month = add_months(run_month, -1)
        latest_month = add_months(run_month, -1)
        periods = [add_months(latest_month, -k) for k in range(catch_up_months - 1, -1, -1)]
    if last_success is None or job in LATEST_ONLY:
        return [p for p in periods[-1:] if last_success is None or p > last_success]
    return [p for p in periods if p > last_success]


class Jobs:
    """The jobs bound to a ledger and a database; each run opens its own read store, because a
    database connection is not shared between the scheduler's threads."""

    def __init__(
        self, ledger: Ledger, settings: Settings, job_settings: JobSettings | None = None,
        actor: Actor = SYSTEM,
    ) -> None:
        self.ledger = ledger
        self.settings = settings
        self.job_settings = job_settings or JobSettings()
        self.actor = actor
        self.schedule = Schedule.from_settings(self.job_settings)
        self.tz = ZoneInfo(self.job_settings.timezone)

    def work(self, job: str, period: str, store: ReadStore) -> Callable[[], Mapping[str, Any]]:
        ledger, actor = self.ledger, self.actor
        if job == CLOSE_DAY:
            return lambda: close_day(ledger, store, date.fromisoformat(period), actor)
        if job == EXPIRE:
            return lambda: expire_entries(ledger, store, actor)
        if job == SEAL:
            return lambda: seal_days(ledger, store, date.fromisoformat(period), actor)
        if job == SETTLE:
            out = self.job_settings.output_dir or self.settings.settlement_home
            return lambda: settle_kentaikyo(ledger, store, period, actor, out)
        if job == BILL:
            return lambda: bill_site_fees(ledger, store, period, actor)
        if job == VERIFY_READ_MODELS:
            settings = self.settings
            return lambda: verify_read_models(ledger, settings)
        raise ValueError(f"unknown job {job!r}")

    def run(self, job: str, period: str, force: bool = False) -> RunResult:
        store = ReadStore(self.settings)
        try:
            return run_job(store, job, period, self.work(job, period, store), force=force,
                           lock_ttl=timedelta(seconds=self.job_settings.lock_ttl_seconds))
        finally:
            store.close()

    def due(self, job: str, now: datetime | None = None) -> list[str]:
        store = ReadStore(self.settings)
        try:
            last = last_succeeded_period(store, job)
        finally:
            store.close()
        return due_periods(job, now or clock.now(), last, self.schedule, self.tz,
                           self.job_settings.catch_up_days, self.job_settings.catch_up_months)

    def catch_up_job(self, job: str) -> list[RunResult]:
        """Run every due period of one job, oldest first; stop at the first that does not
        succeed, since later periods build on earlier ones (seal chain, carried fees)."""
        results = []
        for period in self.due(job):
            result = self.run(job, period)
            results.append(result)
            if result.outcome not in ("succeeded", "already_done"):
                break
        return results

    def catch_up_all(self) -> list[RunResult]:
        # Day close before seal (its events then fall in the next seal), settle before bill.
        return [r for job in CAUGHT_UP_ON_START for r in self.catch_up_job(job)]


def start_scheduler(
    ledger: Ledger, store: ReadStore, settings: Settings, job_settings: JobSettings | None = None
) -> BackgroundScheduler:
    """Start the nightly jobs in background threads, and catch up on missed runs at once.

    `store` is the caller's read store; runs do not share it (see `Jobs`): each opens its own
    on `settings`' database.
    Stop with ``scheduler.shutdown()``.
    """
    jobs = Jobs(ledger, settings, job_settings)
    js = jobs.job_settings
    scheduler = BackgroundScheduler(
        timezone=jobs.tz,
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={
            "coalesce": True,  # several missed firings make one run (which catches up anyway)
            "max_instances": 1,  # within this process; the job lock covers other processes
            "misfire_grace_time": js.misfire_grace_seconds,
        },
    )
    for job in JOB_NAMES:
        at = jobs.schedule.at[job]
        day = jobs.schedule.day_of_month.get(job)
        trigger = CronTrigger(day=day if day is not None else "*", hour=at.hour, minute=at.minute,
                              timezone=jobs.tz)
        scheduler.add_job(jobs.catch_up_job, trigger, args=[job], id=job, name=job,
                          replace_existing=True)
    scheduler.add_job(jobs.catch_up_all, "date", id="catch-up", name="catch-up on start")
    scheduler.start()
    log.info("scheduler started (%s)", js.timezone)
    return scheduler

