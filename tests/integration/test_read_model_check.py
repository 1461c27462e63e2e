"""The read side checks itself (`ledger verify --read-models`, the nightly verify-read-models):
a read-model row changed, deleted or added behind the projection's back is found and named by
table and key; untouched read models are equal. Both databases."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from typer.testing import CliRunner

from api.cli import common
from api.cli import jobs as jobs_cli  # noqa: F401  (registers its commands)
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.settings import Settings, get_settings
from projections.jobs.config import JobSettings
from projections.jobs.read_models import ReadModelsDiffer
from projections.jobs.runs import last_finished_run
from projections.jobs.scheduler import (
    VERIFY_READ_MODELS,
    Jobs,
    Schedule,
    due_periods,
)
from projections.jobs.seal import seal_days
from projections.read_model_check import check_read_models, drop_stale_shadows
from projections.store import READ_MODEL_TABLES
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    Api,
    api_fixture,
    api_settings_fixture,
)
from tests.integration.jobs_world import (
    PRIME,
    SITE,
    SITE_B,
    SUB,
    T1,
    T2,
    T3,
    World,
    jst,
)

SETTLEMENT_TABLES = {"day_close_exceptions", "day_closes", "daily_seals",
                     "kentaikyo_settlements", "site_fee_bills"}

# The read-model tables of the migrated database: the ledger projection's and the settlement
# projection's (the catalog, less the log, keys, jobs' bookkeeping and positions).
COMPARED_TABLES = 37  # exit_resolutions (0013), working time (0018), entry checks, accounts (0019)


@pytest.fixture
def world(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    """Taps on the 18th and 19th at two sites, an unknown card's tap, an approved manual entry
    on the 17th, the days sealed: rows in most read-model tables, the settlement's included."""
    with World.built(ledger, settings, now, at=jst(2025, 6, 18, 7),
                     opened_on=date(2025, 6, 1)) as built:
        built.work(SITE, T1, date(2025, 6, 18))
        built.work(SITE, T2, date(2025, 6, 18))
        built.work(SITE, T1, date(2025, 6, 19))
        built.work(SITE_B, T3, date(2025, 6, 19))
        built.tap(SITE, "FFFFFFFF", "in", jst(2025, 6, 19, 9))  # GATE-1:9, an unknown card
        entry = ledger.request_manual_entry(T1, SITE_B, date(2025, 6, 17), SUB, "鉄筋", "一般",
                                            "配筋", Actor(Role.EMPLOYER, SUB))
        ledger.approve(entry, Actor(Role.PRIME_CONTRACTOR, PRIME))
        built.clock.at = jst(2025, 6, 20, 3)
        seal_days(ledger, built.store, date(2025, 6, 19), Actor(Role.SYSTEM, "test"))
        built.catch_up()
        yield built


def execute(settings: Settings, statement: str) -> None:
    """Change a read-model table behind the projection's back."""
    if settings.is_postgres:
        with psycopg.connect(settings.database_url) as conn:
            assert conn.execute(statement).rowcount in (1, -1)  # type: ignore[arg-type]
    else:
        with sqlite3.connect(settings.sqlite_path) as conn:
            assert conn.execute(statement).rowcount in (1, -1)  # -1: DDL


def test_untouched_read_models_equal_the_log(world: World) -> None:
    check = check_read_models(world.ledger, world.settings)

    assert check.equal, [str(d) for d in check.differences]
    assert check.position == world.ledger.log_position()
    assert check.rebuilt_events == check.position
    assert check.rows > 40 and check.differing_groups == 0
    assert check.summary() == (f"read models equal the log at position {check.position} "
                               f"({len(check.tables)} tables, {check.rows} rows)")


def test_every_read_model_table_is_compared_and_no_other(world: World) -> None:
    """The list comes from the catalog; this pins the exclusion list (positions are compared
    apart, the rest is not derived from the log)."""
    check = check_read_models(world.ledger, world.settings)
    assert set(check.tables) == (set(READ_MODEL_TABLES) - {"projection_positions"}
                                 | SETTLEMENT_TABLES)


TAMPERED = {
    "a month's day bits": (
        f"UPDATE work_day_months SET day_bits = day_bits | 1 WHERE technician_id = '{T1}' "
        f"AND site_id = '{SITE}'",
        "work_day_months", [f"technician_id='{T1}'", "2025-06-01", f"site_id='{SITE}'"],
        "day_bits: live 393217 vs rebuilt 393216"),
    "a record's trade": (
        f"UPDATE work_records SET trade = '電気' WHERE technician_id = '{T1}' "
        f"AND site_id = '{SITE}' AND work_date = '2025-06-19'",
        "work_records", [f"technician_id='{T1}'", f"site_id='{SITE}'", "2025-06-19"],
        "trade: live '電気' vs rebuilt '鉄筋'"),
    "a deleted tap": (
        "DELETE FROM tap_facts WHERE tap_id = 'GATE-1:3'",
        "tap_facts", ["tap_id='GATE-1:3'"], "missing from the live table"),
    "an unknown card's tap deleted": (  # a group of no worker: NULL
        "DELETE FROM tap_facts WHERE technician_id IS NULL",
        "tap_facts", ["tap_id='GATE-1:9'"], "missing from the live table"),
    "an added business": (
        "INSERT INTO businesses (business_id, name, positions) VALUES ('999', '偽装', '[]')",
        "businesses", ["business_id='999'"], "in the live table only"),
    "a request's status": (
        f"UPDATE requests SET status = 'rejected' WHERE technician_id = '{T1}' "
        "AND work_date = '2025-06-17'",
        "requests", ["request_id="], "status: live 'rejected' vs rebuilt 'approved'"),
    "a seal's event count": (
        "UPDATE daily_seals SET event_count = event_count + 1",
        "daily_seals", ["day=", "2025-06-19"], "event_count: live"),
    "a deleted roster row": (
        f"DELETE FROM roster_history WHERE site_id = '{SITE_B}' AND technician_id = '{T3}'",
        "roster_history", [f"site_id='{SITE_B}'", f"technician_id='{T3}'"],
        "missing from the live table"),
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_changed_read_model_row_is_named_by_table_and_key(world: World, case: str) -> None:
    statement, table, key_parts, what = TAMPERED[case]
    execute(world.settings, statement)

    check = check_read_models(world.ledger, world.settings)

    assert not check.equal and check.differing_groups == 1
    first = str(check.differences[0])
    assert first.startswith(f"{table} (") and what in first, first
    for part in key_parts:
        assert part in first, first
    assert {d.table for d in check.differences} == {table}


def test_a_row_moved_to_another_group_is_paired_by_its_key(world: World) -> None:
    execute(world.settings, f"UPDATE tap_facts SET technician_id = '{T1}' "
                            "WHERE tap_id = 'GATE-1:3'")

    check = check_read_models(world.ledger, world.settings)

    assert check.differing_groups == 2  # T1's taps and T2's
    assert [str(d) for d in check.differences] == [
        f"tap_facts (tap_id='GATE-1:3') technician_id: live '{T1}' vs rebuilt '{T2}'"]


def test_changes_in_several_tables_are_all_found_and_the_list_is_limited(world: World) -> None:
    for case in ("a month's day bits", "a record's trade", "a deleted tap", "an added business"):
        execute(world.settings, TAMPERED[case][0])

    check = check_read_models(world.ledger, world.settings, limit=3)

    assert check.differing_groups == 4
    assert len(check.differences) == 3
    full = check_read_models(world.ledger, world.settings)
    assert {d.table for d in full.differences} == {
        "work_day_months", "work_records", "tap_facts", "businesses"}


def test_a_value_of_another_type_differs_on_sqlite_too(world: World) -> None:
    """SQLite keeps a blob put in a text column as a blob, the same bytes as the text: a shadow
    of the same kind compares values with their types (on PostgreSQL the value is changed)."""
    statement = ("UPDATE site_structure SET parent_business_id = CAST(parent_business_id AS "
                 "BLOB) WHERE business_id = '300'" if not world.settings.is_postgres else
                 "UPDATE site_structure SET parent_business_id = '100' WHERE business_id = '300'")
    execute(world.settings, statement)

    check = check_read_models(world.ledger, world.settings)

    assert not check.equal
    assert "site_structure (site_id=" in str(check.differences[0])
    assert "parent_business_id: live" in str(check.differences[0])


def test_a_new_table_in_the_database_is_compared_not_left_out(world: World) -> None:
    execute(world.settings, "CREATE TABLE overtime_months (technician_id text PRIMARY KEY, "
                            "hours integer NOT NULL)")
    execute(world.settings, f"INSERT INTO overtime_months VALUES ('{T1}', 46)")

    check = check_read_models(world.ledger, world.settings)

    assert "overtime_months" in check.tables
    assert str(check.differences[0]) == (
        f"overtime_months (technician_id='{T1}'): in the live table only (not in the log)")


def test_the_live_tables_moving_during_the_check_are_compared_at_one_position(
    world: World,
) -> None:
    """Each rebuilt batch, taps are recorded and projected live: the check still compares at
    the position the live tables had when it started."""
    start = world.ledger.log_position()
    day = iter(range(21, 28))

    def live_moves(_: int) -> None:
        world.work(SITE, T2, date(2025, 6, next(day)))
        world.catch_up()

    check = check_read_models(world.ledger, world.settings, batch_size=10, progress=live_moves)

    assert check.equal, [str(d) for d in check.differences]
    assert check.position == start
    assert world.ledger.log_position() > start + 4  # the live side moved meanwhile
    assert check_read_models(world.ledger, world.settings).equal  # and equals the log there too


def test_no_shadow_is_left_behind(world: World) -> None:
    check_read_models(world.ledger, world.settings)
    if world.settings.is_postgres:
        with psycopg.connect(world.settings.database_url) as conn:
            row = conn.execute("SELECT count(*) FROM pg_namespace "
                               "WHERE nspname LIKE 'read_model_check%'").fetchone()
        assert row is not None and row[0] == 0
    else:
        folder = Path(world.settings.sqlite_path).parent
        assert not list(folder.glob("read-model-check-*"))


def test_the_job_records_its_outcome_and_a_difference_fails_it(world: World) -> None:
    jobs = Jobs(world.ledger, world.settings)

    ok = jobs.run(VERIFY_READ_MODELS, "2025-06-20")
    assert ok.outcome == "succeeded"
    assert ok.counts["position"] == world.ledger.log_position()
    assert ok.counts["tables"] == COMPARED_TABLES

    execute(world.settings, TAMPERED["a record's trade"][0])
    world.clock.at += timedelta(minutes=1)  # runs are told apart by when they ended
    failed = jobs.run(VERIFY_READ_MODELS, "2025-06-20", force=True)

    assert failed.outcome == "failed" and isinstance(failed.error, ReadModelsDiffer)
    assert failed.counts["differing_groups"] == 1
    assert failed.counts["first_difference"] == {
        "table": "work_records", "column": "trade",
        "key": ["technician_id", "site_id", "work_date"]}
    run = last_finished_run(world.store, VERIFY_READ_MODELS)
    assert run is not None and run.outcome == "failed"
    assert run.detail is not None and f"technician_id='{T1}'" in run.detail
    assert T1 not in str(run.counts)  # counts are shown where no key is needed


def test_the_check_is_due_daily_for_the_latest_day_only_and_not_on_start(world: World) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    schedule = Schedule.from_settings(JobSettings())
    now = datetime(2025, 6, 20, 4, 0, tzinfo=tokyo)
    assert due_periods(VERIFY_READ_MODELS, now, None, schedule, tokyo) == ["2025-06-20"]
    assert due_periods(VERIFY_READ_MODELS, now, "2025-06-15", schedule, tokyo) == ["2025-06-20"]
    assert due_periods(VERIFY_READ_MODELS, now, "2025-06-20", schedule, tokyo) == []
    before = datetime(2025, 6, 20, 3, 0, tzinfo=tokyo)
    assert due_periods(VERIFY_READ_MODELS, before, None, schedule, tokyo) == ["2025-06-19"]

    results = Jobs(world.ledger, world.settings).catch_up_all()
    assert VERIFY_READ_MODELS not in {r.job for r in results}


def test_cli_verify_read_models(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", world.settings.database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    position = world.ledger.log_position()
    try:
        ok = runner.invoke(common.app, ["verify", "--read-models"])
        assert ok.exit_code == 0, ok.output
        assert (f"ok: read models equal the log at position {position} "
                f"({COMPARED_TABLES} tables,") in ok.output

        execute(world.settings, TAMPERED["a month's day bits"][0])
        execute(world.settings, TAMPERED["a deleted tap"][0])
        world.clock.at += timedelta(minutes=1)
        broken = runner.invoke(common.app, ["verify", "--read-models", "--limit", "1"])
        assert broken.exit_code == 1
        # tables in name order: tap_facts comes first, and the list stops at one
        assert ("DIFFERS tap_facts (tap_id='GATE-1:3'): missing from the live table"
                in broken.output)
        assert "work_day_months" not in broken.output
        assert (f"2 differing group(s) in {COMPARED_TABLES} tables at position {position} (first 1 "
                "difference(s) shown)") in broken.output
    finally:
        get_settings.cache_clear()
    run = last_finished_run(world.store, VERIFY_READ_MODELS)
    assert run is not None and run.outcome == "failed"  # recorded as the nightly run is


def test_ready_shows_the_last_check_and_stays_ready_when_it_differs(
    api: Api, world: World
) -> None:
    assert api.client.get("/v1/ready").json()["read_model_check"] is None  # none ran yet
    jobs = Jobs(world.ledger, world.settings)
    assert jobs.run(VERIFY_READ_MODELS, "2025-06-20").outcome == "succeeded"
    equal = api.client.get("/v1/ready").json()["read_model_check"]
    assert equal["outcome"] == "equal" and equal["position"] == world.ledger.log_position()
    assert equal["tables"] == COMPARED_TABLES and equal["differing_groups"] == 0

    execute(world.settings, TAMPERED["a month's day bits"][0])
    world.clock.at += timedelta(minutes=1)
    jobs.run(VERIFY_READ_MODELS, "2025-06-20", force=True)
    ready = api.client.get("/v1/ready")

    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    check = ready.json()["read_model_check"]
    assert (check["outcome"], check["differing_groups"], check["first_difference_table"],
            check["first_difference_column"]) == ("differ", 1, "work_day_months", "day_bits")
    runs = ready.json()["job_runs"]
    assert (runs[0]["job"], runs[0]["outcome"]) == (VERIFY_READ_MODELS, "failed")
    assert T1 not in ready.text  # no key is needed here: the key's values stay out


def test_the_job_drops_a_shadow_left_by_a_check_that_died(world: World) -> None:
    if world.settings.is_postgres:
        execute(world.settings, "CREATE SCHEMA read_model_check_dead")
        execute(world.settings, "CREATE TABLE read_model_check_dead.work_records (x integer)")
    else:  # a temporary directory: nothing to drop, and the check ignores it
        assert drop_stale_shadows(world.settings) == 0

    assert Jobs(world.ledger, world.settings).run(VERIFY_READ_MODELS, "2025-06-20").outcome == (
        "succeeded")

    if world.settings.is_postgres:
        with psycopg.connect(world.settings.database_url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE "
                                "'read_model_check%'").fetchone() == (0,)
