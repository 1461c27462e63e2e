"""End to end: `ledger serve` (a real uvicorn process) with LEDGER_LOG_FORMAT=json writes one
JSON object per line on stderr, the application's own loggers included, and every line a request
causes carries its request ID (the caller's X-Request-ID, or one made for it and answered)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

pytestmark = pytest.mark.slow
LEDGER = [sys.executable, "-c", "from api.cli import main; main()"]
LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


def test_served_logs_are_json_lines_with_the_request_id(
    database_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_LOG_FORMAT": "json",
           "LEDGER_JOBS_OUTPUT_DIR": str(tmp_path / "settlements")}
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as err, (tmp_path / "stdout.log").open("wb") as out:
        process = subprocess.Popen([*LEDGER, "serve", "--port", "0"], env=env, stdout=out,
                                   stderr=err)
    try:
        while not (found := LISTENING.search(stderr.read_text())):
            assert process.poll() is None, f"the server exited:\n{stderr.read_text()}"
            time.sleep(0.05)
        with httpx.Client(base_url=found.group(1), timeout=None) as client:
            given = client.get("/v1/health", headers={"X-Request-ID": "probe-42"})
            made = client.get("/v1/health")
            forged = client.get("/v1/health", headers={"X-Request-ID": "a\" b"})
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait()
    assert given.headers["x-request-id"] == "probe-42"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["x-request-id"])  # not echoed

    lines = [orjson.loads(line) for line in stderr.read_text().splitlines()]
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line), line
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    access = {line.get("request_id"): line["message"] for line in lines
              if line["logger"] == "uvicorn.access"}
    assert "GET /v1/health" in access["probe-42"]
    assert "GET /v1/health" in access[made.headers["x-request-id"]]
    # The application's own loggers reach the log (the scheduler's catch-up on start).
    assert any(line["logger"] == "projections.jobs" for line in lines)
    # Noisy libraries are kept to warnings.
    assert not any(line["logger"].startswith("yoyo") for line in lines)
