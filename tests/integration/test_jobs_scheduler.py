"""Running the jobs: catching up on runs missed while the service was down, the schedule itself,
one run at a time across schedulers, and the run records the health endpoint shows."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.settlement import day_close_id
from ledger.settings import Settings
from projections.jobs.config import JobSettings
from projections.jobs.locks import advisory_key
from projections.jobs.runs import (
    ALREADY_DONE,
    FAILED,
    LOCKED,
    SUCCEEDED,
    recent_job_runs,
    run_job,
)
from projections.jobs.scheduler import (
    BILL,
    CLOSE_DAY,
    EXPIRE,
    JOB_NAMES,
    SEAL,
    SETTLE,
    Jobs,
    start_scheduler,
)
from projections.store import ReadStore
from tests.integration.jobs_world import SITE, SITE_B, STAMP_SITE, T1, World, jst


@pytest.fixture
def world(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    with World.built(ledger, settings, now, at=jst(2025, 5, 1, 9)) as built:
        yield built


@pytest.fixture
def jobs(world: World, tmp_path: Path) -> Jobs:
    return Jobs(world.ledger, world.settings, JobSettings(output_dir=tmp_path))


def runs(store: ReadStore, job: str) -> list[tuple[str, str]]:
    return sorted((r.period, r.outcome) for r in recent_job_runs(store, 100) if r.job == job)


def test_days_missed_while_the_service_was_down_are_closed_when_it_returns(
    world: World, jobs: Jobs
) -> None:
    for day in (17, 18, 19):
        world.work(SITE, T1, date(2025, 6, day))
    world.clock.at = jst(2025, 6, 18, 2)
    assert jobs.catch_up_job(CLOSE_DAY)[0].outcome == SUCCEEDED  # the 17th, on time
    # down from the 18th 01:00 to the 20th 10:00: the closes of the 18th and 19th were missed
    world.clock.at = jst(2025, 6, 20, 10)

    results = jobs.catch_up_job(CLOSE_DAY)

    assert [(r.period, r.outcome) for r in results] == [
        ("2025-06-18", SUCCEEDED), ("2025-06-19", SUCCEEDED)]
    for closed_day in (date(2025, 6, 18), date(2025, 6, 19)):
        for site in (SITE, SITE_B, STAMP_SITE):
            world.ledger.repository.get(day_close_id(site, closed_day))  # raises if missing
    assert jobs.catch_up_job(CLOSE_DAY) == []
    assert runs(world.store, CLOSE_DAY) == [
        ("2025-06-17", SUCCEEDED), ("2025-06-18", SUCCEEDED), ("2025-06-19", SUCCEEDED)]


def test_the_scheduler_starts_with_a_catch_up_and_schedules_every_job_in_tokyo_time(
    world: World, tmp_path: Path
) -> None:
    world.work(SITE, T1, date(2025, 6, 2))
    world.clock.at = jst(2025, 7, 10, 5)  # after the 10th's settlement time: June is due
    scheduler = start_scheduler(world.ledger, world.store, world.settings,
                                JobSettings(output_dir=tmp_path))
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(JOB_NAMES) <= set(jobs)
        close = jobs[CLOSE_DAY]
        assert (close.coalesce, close.max_instances, close.misfire_grace_time) == (
            True, 1, 6 * 3600)
        assert str(close.trigger.timezone) == "Asia/Tokyo"
        fields = {f.name: str(f) for f in jobs[SETTLE].trigger.fields}
        assert (fields["day"], fields["hour"], fields["minute"]) == ("10", "4", "0")
        expected = {CLOSE_DAY: "2025-07-09", EXPIRE: "2025-07-10", SEAL: "2025-07-09",
                    SETTLE: "2025-06", BILL: "2025-06"}
        done = _wait_for_runs(world.store, len(expected))
    finally:
        scheduler.shutdown(wait=True)
    assert {r.job: (r.period, r.outcome) for r in done} == {
        job: (period, SUCCEEDED) for job, period in expected.items()}
    assert (tmp_path / "kentaikyo" / "2025-06").is_dir()


def _wait_for_runs(store: ReadStore, count: int) -> list:  # type: ignore[type-arg]
    for _ in range(600):  # the catch-up runs in the scheduler's threads
        finished = [r for r in recent_job_runs(store) if r.outcome != "running"]
        if len(finished) >= count:
            return finished
        time.sleep(0.1)
    raise AssertionError(f"only {recent_job_runs(store)} after a minute")


def test_two_schedulers_racing_run_the_job_once(world: World, tmp_path: Path) -> None:
    world.work(SITE, T1, date(2025, 6, 19))
    world.clock.at = jst(2025, 6, 20, 2)
    start = threading.Barrier(2)
    results = []

    def scheduler_process() -> None:
        jobs = Jobs(world.ledger, world.settings, JobSettings(output_dir=tmp_path))
        start.wait()
        results.extend(jobs.catch_up_job(CLOSE_DAY))

    threads = [threading.Thread(target=scheduler_process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    outcomes = sorted(r.outcome for r in results)
    assert outcomes in ([ALREADY_DONE, SUCCEEDED], [LOCKED, SUCCEEDED]), outcomes
    assert runs(world.store, CLOSE_DAY) == [("2025-06-19", SUCCEEDED)]


def test_the_lock_keeps_a_second_run_out_while_the_first_is_running(world: World) -> None:
    inside, second_tried = threading.Event(), threading.Event()
    results = {}

    def slow() -> dict[str, int]:
        inside.set()
        assert second_tried.wait(30)
        return {"done": 1}

    def first() -> None:
        store = ReadStore(world.settings)
        results["first"] = run_job(store, SEAL, "2025-06-19", slow)
        store.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(30)
    other = ReadStore(world.settings)
    try:  # forced, as by hand: only the lock can keep it out
        results["second"] = run_job(other, SEAL, "2025-06-19", lambda: {"done": 2}, force=True)
    finally:
        second_tried.set()
        other.close()
    thread.join()

    assert (results["first"].outcome, results["second"].outcome) == (SUCCEEDED, LOCKED)
    assert [r.counts for r in recent_job_runs(world.store) if r.job == SEAL] == [{"done": 1}]


def test_a_lock_left_by_a_dead_process_is_taken_over(world: World) -> None:
    if world.settings.is_postgres:
        # The advisory lock belongs to a session: while it lives the job is locked out, and
        # the server lets go when it ends, however the process died.
        holder = psycopg.connect(world.settings.database_url, autocommit=True)
        holder.execute("SELECT pg_advisory_lock(%s)", [advisory_key(SEAL)])
        assert run_job(world.store, SEAL, "p", lambda: {}).outcome == LOCKED
        holder.close()
    else:
        with world.store.transaction() as tx:
            tx.execute("INSERT INTO job_locks (job, owner, expires_at) VALUES (%s, %s, %s)",
                       [SEAL, "gone:1:1", world.clock.at + timedelta(minutes=5)])
        assert run_job(world.store, SEAL, "p", lambda: {}).outcome == LOCKED
        world.clock.advance(timedelta(minutes=6))
    assert run_job(world.store, SEAL, "p", lambda: {}).outcome == SUCCEEDED


def test_failed_and_abandoned_runs_are_recorded_and_a_period_done_is_not_redone(
    world: World,
) -> None:
    with world.store.transaction() as tx:  # a process died in the middle of a run
        tx.execute("INSERT INTO job_runs (run_id, job, period, owner, started_at, outcome, "
                   "counts) VALUES ('dead', %s, '2025-06', 'gone:1:1', %s, 'running', %s)",
                   [BILL, world.clock.at, "{}"])
    world.clock.advance(timedelta(minutes=1))

    def broken() -> dict[str, int]:
        raise RuntimeError("database went away")

    failed = run_job(world.store, BILL, "2025-06", broken)
    world.clock.advance(timedelta(minutes=1))
    succeeded = run_job(world.store, BILL, "2025-06", lambda: {"primes": 2})
    world.clock.advance(timedelta(minutes=1))
    again = run_job(world.store, BILL, "2025-06", lambda: {"primes": 3})

    assert (failed.outcome, succeeded.outcome, again.outcome) == (FAILED, SUCCEEDED, ALREADY_DONE)
    assert isinstance(failed.error, RuntimeError)
    shown = [(r.run_id == "dead", r.outcome, r.counts, r.detail)
             for r in recent_job_runs(world.store)]
    assert shown == [
        (False, SUCCEEDED, {"primes": 2}, None),
        (False, FAILED, {}, "RuntimeError: database went away"),
        (True, FAILED, {}, "abandoned: its process ended during the run"),
    ]
