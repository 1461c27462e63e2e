"""The `ledger` command line on a real database."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import common, core, register, requests  # noqa: F401  (register their commands)
from ledger.application import Ledger
from ledger.settings import Settings, get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def use_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()


def ledger_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(common.app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.output


def test_import_reports_bad_lines_and_stores_the_good_ones(tmp_path, ledger: Ledger) -> None:
    jsonl = tmp_path / "taps.jsonl"
    jsonl.write_text(
        '{"tap_id": "G1:1", "reader_id": "G1", "card_id": "04A1B2C3", "direction": "in",'
        ' "reader_time": "2025-06-02T07:58:00+09:00"}\n'
        "not json\n"
        '{"tap_id": "G1:2", "reader_id": "G1", "card_id": "04A1B2C3", "direction": "in",'
        ' "reader_time": "2025-06-02T07:58:00"}\n'
        '{"tap_id": "G1:3", "reader_id": "G1", "technician_id": "123", "direction": "out",'
        ' "reader_time": "2025-06-02T17:58:00+09:00"}\n'
        '{"tap_id": "G1:4", "reader_id": "G1", "technician_id": "12345678901234",'
        ' "direction": "out", "reader_time": "2025-06-02T17:59:00+09:00"}\n',
        encoding="utf-8",
    )
    code, output = ledger_cli("import-taps", str(jsonl))
    assert code == 0
    assert "line 2: line: not JSON" in output
    assert "line 3: reader_time:" in output and "no time zone" in output
    assert "line 4: technician_id:" in output
    assert "accepted 2, duplicate 0, rejected 3" in output

    csv_file = tmp_path / "taps.csv"
    csv_file.write_text(
        "tap_id,reader_id,card_id,technician_id,direction,reader_time\n"
        "G1:1,G1,04A1B2C3,,in,2025-06-02T07:58:00+09:00\n"
        "G1:5,G1,04A1B2C3,,in,2025-06-03T07:58:00+09:00\n",
        encoding="utf-8-sig",
    )
    code, output = ledger_cli("import-taps", str(csv_file))
    assert "accepted 1, duplicate 1, rejected 0" in output


def test_a_refused_command_exits_2_names_the_field_and_writes_nothing(ledger: Ledger) -> None:
    assert ledger_cli("business", "register", "100", "鈴木建設")[0] == 0
    before = ledger.log_position()
    code, output = ledger_cli(
        "site", "open", "10000000000001", "x", "999", "electronic", "2025-01-06"
    )
    assert code == 2 and "business_id: 999 is not registered" in output
    code, output = ledger_cli(
        "site", "open", "10000000000001", "x", "100", "electronic", "2025-02-30"
    )
    assert code == 2 and "opened_on" in output
    assert ledger.log_position() == before


def test_audit_lists_the_events_behind_a_work_record(ledger: Ledger, now: object) -> None:
    from datetime import date

    from api.cli import audit  # noqa: F401  (registers the command)
    from tests.integration.world import (
        PRIME_STAFF,
        SITE,
        SUB,
        TECHNICIAN,
        WORKER_SELF,
        register_world,
    )

    register_world(ledger)
    entry = ledger.request_manual_entry(
        TECHNICIAN, SITE, date(2025, 6, 19), SUB, "鉄筋", "一般", "配筋", WORKER_SELF
    )
    ledger.approve(entry, PRIME_STAFF)
    code, output = ledger_cli("audit", "work-record", TECHNICIAN, SITE, "2025-06-19")
    assert code == 0, output
    lines = [line for line in output.splitlines() if "│" in line]
    assert [line.split("│")[3].strip() for line in lines] == [
        "ManualEntry.Requested",
        "ApprovableRequest.Approved",
    ]
    assert [line.split("│")[4].strip() for line in lines] == [
        f"worker:{TECHNICIAN}",
        "prime_contractor:100",
    ]
    code, output = ledger_cli("audit", "work-record", TECHNICIAN, SITE, "2025-06-18")
    assert code == 2 and "no work record" in output
