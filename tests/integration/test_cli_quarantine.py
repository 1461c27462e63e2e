"""`ledger quarantine list` / `retry`, and the text rule on the command line, on both databases."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import common, core, projections, register  # noqa: F401  (register their commands)
from ledger.actors import SYSTEM
from ledger.application import Ledger
from ledger.settings import Settings, get_settings
from projections.follower import LogFollower
from projections.jobs.queries import closed_days
from projections.replay import rebuild
from projections.settlement import JobsProjection
from projections.store import ReadStore, Tx
from tests.integration.test_quarantine import FailingAt, at, tap
from tests.integration.world import ADMIN, SITE, TECHNICIAN, register_world

runner = CliRunner()


@pytest.fixture(autouse=True)
def use_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()


def ledger_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(common.app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.output


@pytest.mark.parametrize("poison", ["\x1b[31m", "\x07", "\x85", "\t"])
def test_a_name_with_a_control_character_exits_2_naming_the_field(
    ledger: Ledger, poison: str
) -> None:
    before = ledger.log_position()
    code, output = ledger_cli("business", "register", "100", f"鈴木{poison}建設")
    assert code == 2
    assert "refused name: contains the control character" in output
    assert "rule text.control_character" in output
    assert ledger.log_position() == before


def test_list_then_retry_after_the_fix(
    ledger: Ledger, settings: Settings, now: Any
) -> None:
    register_world(ledger)
    ledger.record_taps([tap(1, "in", at(0, 8))], ADMIN)
    poison = ledger.log_position()
    ledger.record_taps([tap(2, "out", at(0, 17))], ADMIN)
    assert ledger_cli("quarantine", "list") == (0, "no event is quarantined\n")
    store = ReadStore(settings)
    try:
        LogFollower(ledger, store, FailingAt(poison)).catch_up()
    finally:
        store.close()

    code, output = ledger_cli("quarantine", "list")
    assert code == 0
    assert f"position {poison}  Tap.Recorded  worker {TECHNICIAN}, site {SITE}" in output
    assert "OverflowError: date value out of range" in output and "1 attempt(s)" in output
    code, output = ledger_cli("project")
    assert code == 0 and "1 event(s) quarantined" in output and str(poison) in output

    code, output = ledger_cli("quarantine", "retry", str(poison + 1))
    assert code == 2 and "refused position" in output
    code, output = ledger_cli("quarantine", "retry")
    assert code == 0 and f"projected in place: positions {poison}" in output
    assert ledger_cli("quarantine", "list") == (0, "no event is quarantined\n")


class JobsFailingAt(JobsProjection):
    """The jobs' projection with a bug that meets the events at some log positions."""

    def __init__(self, *positions: int) -> None:
        self.positions = set(positions)

    def process(self, tx: Tx, batch: Any) -> None:
        if self.positions.intersection(event.position for event in batch):
            raise OverflowError("date value out of range")
        super().process(tx, batch)


def test_a_quarantined_jobs_event_is_retried_by_the_jobs_projection(
    ledger: Ledger, settings: Settings, now: Any
) -> None:
    """A day close the jobs' projection quarantined is listed, survives a rebuild of the read
    models (which never projects it), and a retry projects it into the jobs' tables."""
    register_world(ledger)
    ledger.close_day(SITE, date(2025, 6, 2), [], [], [], ledger.log_position(), SYSTEM)
    closed = ledger.log_position()
    store = ReadStore(settings)
    try:
        LogFollower(ledger, store).catch_up()
        LogFollower(ledger, store, JobsFailingAt(closed)).catch_up()
        code, output = ledger_cli("quarantine", "list")
        assert code == 0 and f"position {closed}  DayClose.Closed" in output
        rebuild(ledger, settings)
        assert f"position {closed}  DayClose.Closed" in ledger_cli("quarantine", "list")[1]

        code, output = ledger_cli("quarantine", "retry")

        assert code == 0 and f"projected in place: positions {closed}" in output
        assert ledger_cli("quarantine", "list") == (0, "no event is quarantined\n")
        assert closed_days(store, SITE) == [date(2025, 6, 2)]
        with store.read() as tx:
            assert dict(tx.execute("SELECT name, retried FROM projection_positions")) == {
                "ledger": 0, "settlement": 1}
        assert LogFollower(ledger, store, JobsProjection()).catch_up() == 0
    finally:
        store.close()
