"""``ledger-reader`` commands, run in-process with typer's runner against real SQLite files."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.actors import Actor, Role
from ledger.clock import JST
from ledger.domain.registry import DirectionMode
from readers.cli import app
from readers.delivery import TapResult
from readers.identity import CardIdentity
from readers.spool import DELIVERED, Spool
from tests.readers_support.contract_server import recorded_taps, sqlite_ledger

AT = datetime(2025, 6, 2, 7, 58, tzinfo=JST)
runner = CliRunner()


@pytest.fixture
def ledger_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEDGER_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    monkeypatch.setenv("COLUMNS", "200")  # rich tables on one line each
    return tmp_path


def register_reader(folder: Path, reader_id: str, site_id: str = "12345678901234") -> None:
    """The reader registered to a site: a reader appends with its own key only while it is."""
    ledger = sqlite_ledger(folder)
    admin = Actor(Role.ADMIN, "ops")
    ledger.register_business("100", "元請", admin)
    ledger.open_site(site_id, "現場", "100", "electronic", date(2025, 6, 1), admin)
    ledger.register_reader(reader_id, site_id, "auto", admin)
    ledger.close()


def test_simulate_in_process_delivers_every_spooled_tap_once(ledger_url: Path) -> None:
    spool_path = ledger_url / "sim.db"
    register_reader(ledger_url, "SIM-12345678901234")
    result = runner.invoke(app, [
        "simulate", "--site", "12345678901234", "--workers", "40", "--rate", "0",
        "--date", "2025-06-02", "--transport", "inprocess", "--spool", str(spool_path),
        "--batch-size", "25"])
    assert result.exit_code == 0, result.output
    assert "taps spooled" in result.output and "pending (spool depth)" in result.output
    spool = Spool.open_existing(spool_path)
    taps = spool.taps()
    assert taps and all(t.state == DELIVERED for t in taps)
    ledger = sqlite_ledger(ledger_url)
    assert sorted(e.tap_id for e in recorded_taps(ledger)) == sorted(t.tap_id for t in taps)
    assert {t.reader_id for t in taps} == {"SIM-12345678901234"}


def test_status_shows_depth_oldest_tap_last_upload_dead_letters_and_skew(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "gate.db", "GATE-7", first_sequence=1)
    spool.record_all([(CardIdentity(card_id=f"0400{n:04X}"), AT + timedelta(minutes=n))
                      for n in range(3)], DirectionMode.AUTO, timedelta(seconds=10))
    spool.settle([TapResult("GATE-7:1", "rejected", reason="card_id: revoked format")],
                 datetime(2025, 6, 2, 8, 0, tzinfo=JST), clock_offset_seconds=-95.0)
    spool.close()
    result = runner.invoke(app, ["status", "--spool", str(tmp_path / "gate.db")],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line.split("│")[2].strip()
             for line in result.output.splitlines() if line.count("│") == 3}
    assert lines["pending (spool depth)"] == "2"
    assert lines["oldest undelivered"].startswith("GATE-7:2 at 2025-06-02T07:59:00+09:00")
    assert lines["last successful upload"].startswith("2025-06-02T08:00:00+09:00")
    assert lines["dead letters"] == "1" and "CLOCK SKEW" in lines["clock offset"]
    assert "card_id: revoked format" in result.output


def test_upload_drains_an_existing_spool_and_exits(ledger_url: Path) -> None:
    register_reader(ledger_url, "GATE-7")
    spool = Spool(ledger_url / "gate.db", "GATE-7", first_sequence=1)
    spool.record_all([(CardIdentity(card_id="04A1B2C3"), AT)], DirectionMode.IN,
                     timedelta(seconds=10))
    spool.close()
    result = runner.invoke(app, ["upload", "--spool", str(ledger_url / "gate.db"),
                                 "--transport", "inprocess", "--exit-when-drained"])
    assert result.exit_code == 0, result.output
    assert [e.tap_id for e in recorded_taps(sqlite_ledger(ledger_url))] == ["GATE-7:1"]


def test_requeue_dead_puts_dead_letters_back_in_the_queue(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "gate.db", "GATE-7", first_sequence=1)
    spool.record(CardIdentity(card_id="04A1B2C3"), AT, DirectionMode.IN, timedelta(0))
    spool.settle([TapResult("GATE-7:1", "rejected", reason="x")], AT)
    spool.close()
    result = runner.invoke(app, ["requeue-dead", "--spool", str(tmp_path / "gate.db")])
    assert result.exit_code == 0 and "1 taps queued again" in result.output
    assert Spool.open_existing(tmp_path / "gate.db").status().pending == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["status", "--spool", "/nonexistent/spool.db"], "no spool at /nonexistent/spool.db"),
        (["status"], "give --spool or --reader-id"),
        (["run", "--reader-id", "R1", "--profile", "nfc"], "--profile 'nfc' is not uid or"),
        (["run", "--reader-id", "R1", "--profile", "iso7816"], "give an AID"),
        (["run", "--reader-id", "R1", "--profile", "iso7816", "--aid", "xyz"],
         "--aid: 'xyz' is not hexadecimal"),
        (["run", "--reader-id", "R1", "--server", "http://x", "--token", "t", "--direction",
          "up"], "'up' is not in, out or auto"),
        (["run", "--reader-id", "R1"], "needs --server"),
        (["run", "--reader-id", "R1", "--server", "http://x"], "a reader token is needed"),
        (["run", "--reader-id", "R1", "--server", "http://x", "--token", "t", "--batch-size",
          "5001"], "batch size 5001 is not 1-5000"),  # the API's limit (MAX_TAPS)
        (["simulate", "--site", "123"], "not a 14-digit CCUS site ID"),
        (["simulate", "--site", "12345678901234", "--date", "June"], "is not a date"),
    ],
)
def test_bad_settings_are_refused_with_a_message_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str], message: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # default spool paths land in the test's directory
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2, result.output
    assert message in result.output
