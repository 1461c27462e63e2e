"""The systemd units in deploy/systemd pass `systemd-analyze verify` (with the install prefix
pointed at this virtual environment, so that the commands they start exist and are checked),
and each has a restart policy, a user of its own and the environment file."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
INSTALLED_BIN = "/opt/ledger/venv/bin/"
NAMES = ("ledger.service", "ledger-projection.service", "ledger-scheduler.service",
         "ledger-reader@.service")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is missing (Debian package systemd)"
    here = str(Path(sys.executable).parent) + "/"
    for name in NAMES:
        text = (UNITS / name).read_text(encoding="utf-8")
        assert INSTALLED_BIN in text
        (tmp_path / name).write_text(text.replace(INSTALLED_BIN, here), encoding="utf-8")
    # A template is verified as an instance of it.
    shutil.copy(tmp_path / "ledger-reader@.service", tmp_path / "ledger-reader@GATE-1.service")
    checked = [name for name in NAMES if "@." not in name] + ["ledger-reader@GATE-1.service"]
    done = subprocess.run([analyze, "verify", "--man=no", *checked], cwd=tmp_path,
                          capture_output=True, text=True)
    complaints = [line for line in (done.stdout + done.stderr).splitlines()
                  if "ledger" in line]
    assert done.returncode == 0 and not complaints, done.stdout + done.stderr


@pytest.mark.parametrize("name", NAMES)
def test_each_unit_restarts_runs_as_its_user_and_reads_its_environment_file(name: str) -> None:
    service = unit(name)["Service"]
    assert service["Restart"] in ("always", "on-failure")
    assert service["User"].startswith("ledger") and service["User"] != "root"
    assert service["EnvironmentFile"].startswith("/etc/ledger/")
    assert service["ExecStart"].startswith(INSTALLED_BIN)


def test_the_api_leaves_the_projection_and_the_jobs_to_their_own_units() -> None:
    text = (UNITS / "ledger.service").read_text(encoding="utf-8")
    assert "Environment=LEDGER_API_PROJECTION=false" in text
    assert "Environment=LEDGER_API_SCHEDULER=false" in text
    assert "ledger project --follow" in (UNITS / "ledger-projection.service").read_text()
    assert "ledger scheduler" in (UNITS / "ledger-scheduler.service").read_text()
    for example in ("ledger.env.example", "reader.env.example"):
        assert (UNITS / example).is_file()
