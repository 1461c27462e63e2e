"""A killed import loses nothing acknowledged and stores nothing twice.

`ledger import-taps` commits one transaction per batch. SIGKILL in the middle leaves whole batches
only; running the same import again stores the rest and reports the others as duplicates."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import psycopg
import pytest

from ledger.clock import JST
from ledger.settings import Settings

TAPS, BATCH = 40_000, 2_000


def write_tap_file(path: Path) -> None:
    start = datetime(2025, 6, 20, 7, 0, tzinfo=JST)
    with path.open("wb") as handle:
        for n in range(TAPS):
            handle.write(
                orjson.dumps(
                    {
                        "tap_id": f"GATE-{n % 4}:{n}",
                        "reader_id": f"GATE-{n % 4}",
                        "card_id": f"{n % 3000:08X}",
                        "direction": "in",
                        "reader_time": (start + timedelta(milliseconds=n)).isoformat(),
                    }
                )
                + b"\n"
            )


def stored_rows(settings: Settings) -> tuple[int, int]:
    """(rows, distinct aggregates) in the event store."""
    if settings.is_postgres:
        with psycopg.connect(settings.database_url) as conn:
            row = conn.execute(
                "SELECT count(*), count(DISTINCT originator_id) FROM ledger_events"
            ).fetchone()
    else:
        with sqlite3.connect(settings.sqlite_path) as conn:
            row = conn.execute(
                "SELECT count(*), count(DISTINCT originator_id) FROM stored_events"
            ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def run_import(path: Path, settings: Settings) -> subprocess.Popen[bytes]:
    env = os.environ | {"LEDGER_DATABASE_URL": settings.database_url}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from api.cli import main; main()",
            "import-taps",
            str(path),
            "--batch-size",
            str(BATCH),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_an_import_killed_mid_way_leaves_whole_batches_and_a_rerun_stores_each_tap_once(
    settings: Settings, tmp_path: Path
) -> None:
    tap_file = tmp_path / "taps.jsonl"
    write_tap_file(tap_file)

    importer = run_import(tap_file, settings)
    deadline = time.monotonic() + 120
    while stored_rows(settings)[0] == 0:
        assert importer.poll() is None, importer.stderr.read() if importer.stderr else ""
        assert time.monotonic() < deadline, "the import stored nothing in two minutes"
        time.sleep(0.005)
    importer.send_signal(signal.SIGKILL)
    importer.wait()
    assert importer.returncode == -signal.SIGKILL, "the import finished before it was killed"

    rows, distinct = stored_rows(settings)
    assert 0 < rows < TAPS
    assert rows % BATCH == 0, f"{rows} rows is not a whole number of {BATCH}-tap batches"
    assert rows == distinct

    rerun = run_import(tap_file, settings)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()
    summary = out.decode()
    assert f"accepted {TAPS - rows}, duplicate {rows}, rejected 0" in summary
    assert stored_rows(settings) == (TAPS, TAPS)
