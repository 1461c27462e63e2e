"""Settlement events stay small whatever the month's size: the lines live beside the log, named by
SHA-256, written through the ledger; on SQLite and PostgreSQL."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.actors import SYSTEM, Actor, Role
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.settlement import (
    MAX_EVENT_BYTES,
    Adjustment,
    LineSet,
    SettlementTally,
    line_set_of,
    parties_as_lines,
    settlement_id,
)
from ledger.errors import InvalidState
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from projections.follower import LogFollower
from projections.jobs.common import catch_up
from projections.replay import rebuild
from projections.settlement import JobsProjection
from projections.store import ReadStore
from tests.integration.jobs_world import jst
from tests.integration.test_work_day_months import migrate_before

WORKERS = 10_000
SHA = "b" * 64


def month_lines(workers: int) -> Iterator[list[Any]]:
    """Every weekday of June 2025 for `workers` workers: 21 lines each."""
    for w in range(workers):
        day = date(2025, 6, 1)
        while day.month == 6:
            if day.weekday() < 5:
                yield [f"{30_000_000_000_000 + w}", f"{5000 + w % 400}",
                       f"{20_000_000_000_000 + w % 200}", day.isoformat(), 320, "eligible"]
            day += timedelta(days=1)


def test_a_ten_thousand_worker_month_is_issued_in_an_event_far_under_a_megabyte(
    ledger: Ledger, now: FixedClock
) -> None:
    now.at = jst(2025, 7, 10, 4)
    tally = SettlementTally("2025-06")
    days = ledger.store_lines((tally.day(line) for line in month_lines(WORKERS)), SYSTEM)
    assert days.count == WORKERS * 21 and days == line_set_of(month_lines(WORKERS))
    adjustment = Adjustment("2025-05", ("3" * 14, "5000", "2" * 14, "2025-05-30"), None,
                            (320, "eligible"))
    adjustments = ledger.store_lines([tally.adjustment(adjustment)], SYSTEM)
    parties = ledger.store_lines(parties_as_lines({
        "sites": {f"{20_000_000_000_000 + s}": "1000" for s in range(200)},
        "members": {f"{30_000_000_000_000 + w}": f"8{w:07d}" for w in range(WORKERS)},
        "contracts": {}}), SYSTEM)

    settlement, issued = ledger.issue_kentaikyo_settlement(
        tally, days, adjustments, parties, {"report.csv": SHA}, 1, SYSTEM)

    assert issued and settlement.points_yen == WORKERS * 21 * 320
    assert settlement.adjustment_yen == 320
    (stored,) = ledger.recorder.select_events(settlement_id("2025-06"))
    assert len(stored.state) < 4096 < MAX_EVENT_BYTES < 1024 * 1024
    again = ledger.kentaikyo_settlement("2025-06")
    assert again is not None
    assert next(ledger.lines.lines(again.day_lines)) == next(month_lines(1))
    assert sum(1 for _ in ledger.lines.lines(again.day_lines)) == WORKERS * 21


def test_lines_stored_twice_are_stored_once_and_read_back_as_they_were(
    ledger: Ledger,
) -> None:
    lines = [["a", None, "x\ny", 1], ["b", "é", "", -2]]
    first = ledger.store_lines(lines, SYSTEM)
    assert ledger.store_lines(iter(lines), SYSTEM) == first
    assert list(ledger.lines.lines(first)) == lines
    assert ledger.lines.has(first) and not ledger.lines.has(LineSet(SHA, 2))


def test_a_settlement_naming_lines_not_stored_is_refused_and_nothing_is_written(
    ledger: Ledger, now: FixedClock
) -> None:
    now.at = jst(2025, 7, 10, 4)
    tally = SettlementTally("2025-06")
    stored = ledger.store_lines([], SYSTEM)
    with pytest.raises(InvalidState) as refused:
        ledger.issue_kentaikyo_settlement(tally, LineSet(SHA, 0), stored, stored,
                                            {"report.csv": SHA}, 1, SYSTEM)
    assert (refused.value.field, refused.value.rule) == ("days", "lines.missing")
    assert ledger.kentaikyo_settlement("2025-06") is None


def test_altered_lines_are_caught_when_read(ledger: Ledger) -> None:
    stored = ledger.store_lines([["a", 1], ["b", 2]], SYSTEM)
    with ledger.lines._cursor(commit=True) as cursor:
        cursor.execute(ledger.lines._sql(
            "UPDATE settlement_line_chunks SET lines = %s"), ('["a",1]\n["b",3]\n',))
    with pytest.raises(InvalidState) as altered:
        list(ledger.lines.lines(stored))
    assert altered.value.rule == "lines.altered"


def test_the_read_side_writes_no_events() -> None:
    """The nightly jobs record through the Ledger's use cases: nothing under projections/ calls
    the recorder's inserts or the application's save."""
    root = Path(__file__).resolve().parents[2] / "projections"
    writers = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in (
                    "insert_new_events", "insert_events", "save", "_save_small"):
                writers.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.attr}")
    assert writers == []


def test_a_rebuild_of_the_read_models_keeps_the_jobs_position(
    ledger: Ledger, settings: Settings
) -> None:
    """One positions table: the jobs' projection has its own row, and `ledger replay`, which
    replaces the table, carries that row over (the jobs' tables are not rebuilt with it)."""
    ledger.register_business("100", "元請", Actor(Role.ADMIN, "office"))
    store = ReadStore(settings)
    try:
        catch_up(ledger, store)
        with store.read() as tx:
            before = dict(tx.execute("SELECT name, position FROM projection_positions"))
        assert before == {"ledger": ledger.log_position(), "settlement": ledger.log_position()}
        rebuild(ledger, settings)
        with store.read() as tx:
            assert dict(tx.execute("SELECT name, position FROM projection_positions")) == before
    finally:
        store.close()


def test_migration_0015_moves_the_jobs_position_to_the_followers_row(database_url: str) -> None:
    """A ledger that ran the jobs before 0015 kept their position in job_projection_positions;
    after the migration the jobs' follower goes on from that position, not from 0."""
    settings = Settings(database_url=database_url)
    migrate_before(settings, "0015_settlement_lines")
    store = ReadStore(settings)
    try:
        with store.transaction() as tx:
            tx.execute("INSERT INTO projection_positions (name, position) VALUES ('ledger', 7)")
            tx.execute("INSERT INTO job_projection_positions (name, position) "
                       "VALUES ('settlement', 42)")
        assert "0015_settlement_lines" in migrate(settings)
        with store.read() as tx:
            positions = dict(tx.execute("SELECT name, position FROM projection_positions"))
            tables = tx.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_name = 'job_projection_positions'" if settings.is_postgres else
                "SELECT count(*) FROM sqlite_master WHERE name = 'job_projection_positions'")
        assert positions == {"ledger": 7, "settlement": 42}
        assert [tuple(row) for row in tables] == [(0,)]  # dropped
        ledger = Ledger(settings)
        try:
            assert LogFollower(ledger, store, JobsProjection()).position() == 42
        finally:
            ledger.close()
    finally:
        store.close()
