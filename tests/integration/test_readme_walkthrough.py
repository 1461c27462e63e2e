"""The README as a tested document: its command-line walkthrough runs, in order, on a fresh
database, with `ledger` from the virtual environment on the PATH, exactly as a reader types it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
VENV_BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def readme_block(section: str, language: str) -> str:
    """The first ```language block after a README heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    match = re.compile(rf"```{language}\n(.*?)```\n", re.S).search(text, start)
    assert match is not None, f"no {language} block under {section!r}"
    return match.group(1)


def run_shell(script: str, cwd: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "LEDGER_DATABASE_URL": database_url, "COLUMNS": "200"}
    env.pop("LEDGER_JOBS_OUTPUT_DIR", None)
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_the_command_line_walkthrough_runs_in_order_on_a_fresh_database(
    database_url: str, tmp_path: Path
) -> None:
    walkthrough = readme_block("The command line (`ledger`)", "sh")
    done = run_shell(walkthrough, tmp_path, database_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    assert "business 200 registered" in out
    assert "taps.jsonl (266 bytes): accepted 2, duplicate 0, rejected 0" in out
    assert re.search(r"\S+ approved", out) and re.search(r"\S+ rejected", out)
    assert "card 0DDD0001 assigned to 12345678901234" in out
    # --worker shows the worker's employment and the decisions on their requests …
    for kind in ("Worker.EmploymentRequested", "Worker.EmploymentConfirmed",
                 "ApprovableRequest.Approved", "ApprovableRequest.Rejected"):
        assert kind in out
    # … and the page after position 11 still places the tap at 12 (its reader and card were
    # registered before it) under the worker and the site.
    last_page = out[out.rindex("┏"):]
    assert re.search(r"│ 12 +│.*Tap\.Recorded.*worker=12345678901234 site=10000000000001",
                     last_page)
    assert "│ 11 " not in last_page
    # --into as-of.db is the working directory's.
    assert (tmp_path / "as-of.db").is_file()

    # The import-taps CSV example is a file the command takes.
    (tmp_path / "taps.csv").write_text(readme_block("The command line (`ledger`)", "csv"),
                                       encoding="utf-8")
    imported = run_shell("ledger import-taps taps.csv", tmp_path, database_url)
    assert imported.returncode == 0, imported.stderr
    assert "accepted 1, duplicate 0, rejected 0" in imported.stdout
