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


def test_metrics_of_every_worker_are_summed_in_one_scrape(sqlite_url: str, tmp_path: Path) -> None:
    """`ledger serve --workers 2`: each request opens a new connection, so the kernel spreads
    them over both workers; whichever worker answers the scrape counts all of them."""
    env = {**os.environ, "LEDGER_DATABASE_URL": sqlite_url,
           "LEDGER_JOBS_OUTPUT_DIR": str(tmp_path / "settlements"),
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_1.db").write_bytes(b"")  # a previous run's: emptied
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as err:
        process = subprocess.Popen([*LEDGER, "serve", "--port", "0", "--workers", "2"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=err)
    try:
        while not (found := LISTENING.search(stderr.read_text())):
            assert process.poll() is None, f"the server exited:\n{stderr.read_text()}"
            time.sleep(0.05)
        url = found.group(1)
        while not answers(url):  # the supervisor says where before its workers listen
            assert process.poll() is None, f"the server exited:\n{stderr.read_text()}"
            time.sleep(0.05)
        for _ in range(40):
            assert httpx.get(f"{url}/v1/health", timeout=None).status_code == 200
        scrapes = [httpx.get(f"{url}/metrics", timeout=None).text for _ in range(4)]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait()
    pids = {path.name.rsplit("_", 1)[-1] for path in (tmp_path / "metrics").glob("*.db")}
    assert len(pids) >= 2, pids  # more than one process counted
    pattern = re.compile(r'^ledger_http_request_duration_seconds_count\{method="GET",'
                         r'route="/v1/health",status="200"\} (\S+)$', re.M)
    for text in scrapes:
        counted = pattern.search(text)
        assert counted is not None, text
        assert float(counted.group(1)) >= 40  # every worker's requests, not one worker's


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v1/health", timeout=None).status_code == 200
    except httpx.ConnectError:
        return False
