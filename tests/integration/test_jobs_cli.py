"""The jobs by hand: `ledger close-day`, `expire-entries`, `settle kentaikyo`, `bill site-fees`,
`job-runs`; each run under the job's lock and recorded like a scheduled one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import common
from api.cli import jobs as jobs_cli  # noqa: F401  (registers its commands)
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.settings import Settings, get_settings
from ledger.storage.migrate import migrate
from projections.jobs.runs import recent_job_runs
from projections.store import ReadStore
from tests.integration.jobs_world import SITE, T1, World, jst

runner = CliRunner()


@pytest.fixture
def world(
    ledger: Ledger, settings: Settings, now: FixedClock, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    monkeypatch.setenv("LEDGER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LEDGER_JOBS_OUTPUT_DIR", str(tmp_path / "out"))
    get_settings.cache_clear()
    with World.built(ledger, settings, now) as built:
        yield built
    get_settings.cache_clear()


def ledger_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(common.app, list(args))
    return result.exit_code, result.output


def test_each_job_runs_by_hand_and_is_recorded(world: World, tmp_path: Path) -> None:
    world.work(SITE, T1, date(2025, 6, 19))
    world.clock.at = jst(2025, 7, 10, 9)

    code, output = ledger_cli("close-day", "--date", "2025-06-19")
    assert code == 0 and "close-day 2025-06-19: succeeded — sites 3, closed 3" in output
    code, output = ledger_cli("close-day", "--date", "2025-06-19")
    assert code == 0 and "closed 0, already_closed 3" in output
    code, output = ledger_cli("expire-entries")
    assert code == 0 and "expire-entries 2025-07-10: succeeded — pending_overdue 0" in output
    code, output = ledger_cli("settle", "kentaikyo", "--month", "2025-06")
    assert code == 0 and "issued 1" in output and "points_yen 320" in output
    assert (tmp_path / "out" / "kentaikyo" / "2025-06" / "kentaikyo-2025-06.xlsx").is_file()
    code, output = ledger_cli("bill", "site-fees")  # last month by default
    assert code == 0 and "bill-site-fees 2025-06: succeeded — primes 1" in output

    code, output = ledger_cli("job-runs")
    assert code == 0
    for job in ("close-day", "expire-entries", "settle-kentaikyo", "bill-site-fees"):
        assert job in output


def test_a_refused_job_exits_2_naming_the_rule(world: World) -> None:
    world.clock.at = jst(2025, 6, 30, 12)
    code, output = ledger_cli("settle", "kentaikyo", "--month", "2025-06")
    assert code == 2 and "(rule month.not_over)" in output
    code, output = ledger_cli("settle", "kentaikyo", "--month", "2025-6")
    assert code == 2 and "(rule month.format)" in output
    code, output = ledger_cli("close-day", "--date", "2025-06-19", "--as", "worker:1")
    assert code == 2


def test_the_scheduler_command_starts_catches_up_and_stops_on_sigterm(tmp_path: Path) -> None:
    """`ledger scheduler` alone, in its own process, on the real clock: it starts, catches up
    (on an empty ledger), and exits cleanly when told to stop."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_JOBS_OUTPUT_DIR": str(tmp_path)}
    migrate(Settings(database_url=url))
    # Its log lines (stderr, configured by `ledger`) go to a file; its stdout is the report.
    log = (tmp_path / "scheduler.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "scheduler"],
        env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert "scheduler running; jobs:" in first_line and "close-day next" in first_line
        store = ReadStore(Settings(database_url=url))
        try:
            for _ in range(300):  # the catch-up runs in the scheduler's threads
                if {r.job for r in recent_job_runs(store) if r.outcome == "succeeded"} >= {
                        "close-day", "seal"}:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError(f"no catch-up: {recent_job_runs(store)}")
        finally:
            store.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        log.close()
