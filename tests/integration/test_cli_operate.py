"""Operating the command line: refusals are one line (never a traceback), `replay --into` is
relative to the working directory, and each database has its own settlement and replay folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import clock
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.settings import Settings
from projections.jobs.config import JobSettings
from projections.jobs.scheduler import SETTLE, Jobs
from tests.integration.jobs_world import SITE, T1, World, jst

LEDGER = str(Path(sys.executable).parent / "ledger")


def ledger_cli(database_url: str, *args: str, cwd: Path | None = None,
               ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "COLUMNS": "200"}
    return subprocess.run([LEDGER, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("args", [("project",), ("verify",), ("verify", "--read-models"),
                                  ("seal", "--date", "2025-06-01"), ("events",)])
def test_an_unmigrated_database_is_named_in_one_line_not_a_traceback(
    database_url: str, args: tuple[str, ...]
) -> None:
    done = ledger_cli(database_url, *args)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "the database is not migrated; run `ledger migrate` first" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.slow
def test_sealing_today_is_refused_naming_the_rule_without_a_traceback(settings: Settings) -> None:
    today = clock.work_date_of(clock.now()).isoformat()
    done = ledger_cli(settings.database_url, "seal", "--date", today)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"refused day: {today} has not ended yet (JST) (rule day.not_over)" in done.stderr


@pytest.mark.slow
def test_replay_into_a_relative_path_writes_under_the_working_directory(
    settings: Settings, tmp_path: Path
) -> None:
    cwd = tmp_path / "here"
    cwd.mkdir()
    done = ledger_cli(settings.database_url, "replay", "--as-of", "2025-06-30T23:59:59+09:00",
                      "--into", "out/as-of.db", cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert (cwd / "out" / "as-of.db").is_file()
    assert str(cwd / "out" / "as-of.db") in done.stdout


def test_two_databases_have_their_own_settlement_and_replay_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)  # `make test` exports one
    one = Settings(database_url=f"sqlite:///{tmp_path}/one.db", data_dir=tmp_path / "data")
    two = Settings(database_url=f"sqlite:///{tmp_path}/two.db", data_dir=tmp_path / "data")
    assert one.settlement_home == tmp_path / "one.db.settlements"
    assert one.replay_home == tmp_path / "one.db.replays"
    assert one.settlement_home != two.settlement_home
    pg_a = Settings(database_url="postgresql://u:secret@db.example:5433/a", data_dir=tmp_path)
    pg_b = Settings(database_url="postgresql://u@db.example:5433/b", data_dir=tmp_path)
    assert pg_a.settlement_home == tmp_path / "settlements" / "db.example-5433-a"
    assert pg_a.replay_home == tmp_path / "replays" / "db.example-5433-a"
    assert pg_b.settlement_home != pg_a.settlement_home
    assert "secret" not in str(pg_a.settlement_home)
    # Unset, the database itself is SQLite in the data directory.
    assert Settings(data_dir=tmp_path).database_url == f"sqlite:///{tmp_path.resolve()}/ledger.db"


def test_settlement_files_go_to_the_database_s_own_folder_by_default(
    ledger: Ledger, settings: Settings, now: FixedClock, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("LEDGER_JOBS_OUTPUT_DIR", raising=False)
    # Each database gets its own folder: a PostgreSQL one under this test's data directory.
    settings = settings.model_copy(update={"data_dir": tmp_path / "data"})
    with World.built(ledger, settings, now) as world:
        world.work(SITE, T1, jst(2025, 6, 19, 0).date())
        world.clock.at = jst(2025, 7, 10, 9)
        result = Jobs(world.ledger, settings, JobSettings()).run(SETTLE, "2025-06", force=True)
    assert result.error is None, result.error
    month = settings.settlement_home / "kentaikyo" / "2025-06"
    assert (month / "kentaikyo-2025-06.xlsx").is_file()
    assert settings.settlement_home != Settings(database_url=f"sqlite:///{tmp_path}/other.db",
                                                data_dir=tmp_path / "data").settlement_home
