"""The seal commands as an operator and an outside monitor use them, both databases: show the
key, verify against another witness copy and a given public key, prove and check consistency
with no database, rotate the key."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from api.cli import commands as _commands  # noqa: F401  (registers every command)
from api.cli import common
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.settings import Settings, get_settings
from tests.integration.jobs_world import World, jst
from tests.integration.test_seal_signatures import D18, D20, three_sealed_days

NOWHERE = "postgresql://nobody@127.0.0.1:1/none"  # verify-consistency must not need a database


@pytest.fixture
def world(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    with World.built(ledger, settings, now, at=jst(2025, 6, 18, 9),
                     opened_on=date(2025, 6, 1)) as built:
        yield built


@pytest.fixture
def run(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("LEDGER_DATABASE_URL", world.settings.database_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*arguments: str) -> Result:
        return runner.invoke(common.app, list(arguments))

    yield invoke
    get_settings.cache_clear()


def test_verify_against_a_copied_witness_and_a_given_key(world: World, run, tmp_path: Path
                                                         ) -> None:  # type: ignore[no-untyped-def]
    three_sealed_days(world, taps_a_day=3)
    shown = run("seal-key", "show", "--out", str(tmp_path / "seal.pem"))
    assert shown.exit_code == 0, shown.output
    assert "BEGIN PUBLIC KEY" in shown.output
    copy = tmp_path / "offsite"
    shutil.copytree(world.settings.witness_path, copy)

    ok = run("verify", "--witness", str(copy), "--public-key", str(tmp_path / "seal.pem"))
    assert ok.exit_code == 0, ok.output
    assert "ok: 3 seal(s) (3 signed" in ok.output
    assert f"witness {copy}: 3 signed head(s) compared" in ok.output

    altered = copy / "heads" / "2025-06-19.json"
    head = json.loads(altered.read_text())
    head["head"]["day_root"] = "0" * 64
    altered.write_text(json.dumps(head))
    broken = run("verify", "--witness", str(copy))
    assert broken.exit_code == 1
    assert f"MISMATCH witness {copy}: head of 2025-06-19" in broken.output


def test_a_monitor_checks_consistency_with_no_database(
    world: World, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    three_sealed_days(world, taps_a_day=2)
    assert run("seal-key", "show", "--out", str(tmp_path / "seal.pem")).exit_code == 0
    kept = world.settings.witness_path / "heads" / f"{D18}.json"
    proved = run("seal-consistency", "--from", str(D18), "--out", str(tmp_path / "c.json"))
    assert proved.exit_code == 0, proved.output
    assert f"{D18} → {D20}" in proved.output

    monkeypatch.setenv("LEDGER_DATABASE_URL", NOWHERE)
    get_settings.cache_clear()
    checked = run("verify-consistency", str(tmp_path / "c.json"), "--public-key",
                  str(tmp_path / "seal.pem"), "--kept", str(kept))
    assert checked.exit_code == 0, checked.output
    assert "proven: the signed log of heads of 2025-06-20 (3 day(s)) extends" in checked.output

    proof = json.loads((tmp_path / "c.json").read_text())
    proof["later"]["head"]["tree_size"] = 4
    (tmp_path / "forged.json").write_text(json.dumps(proof))
    forged = run("verify-consistency", str(tmp_path / "forged.json"), "--public-key",
                 str(tmp_path / "seal.pem"))
    assert forged.exit_code == 1 and "NOT PROVEN" in forged.output
    other = world.settings.witness_path / "heads" / f"{D20}.json"
    mismatched = run("verify-consistency", str(tmp_path / "c.json"), "--public-key",
                     str(tmp_path / "seal.pem"), "--kept", str(other))
    assert mismatched.exit_code == 1 and "rewrote" in mismatched.output
    (tmp_path / "junk.json").write_text("{}")
    junk = run("verify-consistency", str(tmp_path / "junk.json"), "--public-key",
               str(tmp_path / "seal.pem"))
    assert junk.exit_code == 2 and "unusable" in junk.output


def test_rotate_the_key_from_the_command_line(world: World, run) -> None:  # type: ignore[no-untyped-def]
    three_sealed_days(world, taps_a_day=1)
    rotated = run("seal-key", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "signing from 2025-06-21" in rotated.output
    again = run("seal-key", "rotate")  # before any day is sealed with the new key
    assert again.exit_code == 2 and "rule seal.key_chain" in again.output
    assert run("verify").exit_code == 0
