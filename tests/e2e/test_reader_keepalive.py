"""The gate agent's HTTP transport keeps one connection alive across uploads, against the real
server (`ledger serve`, uvicorn): the server's access log shows every batch from one client
port. When the server went away in between (restarted), the next upload reconnects once and
is delivered. Its batch limit is the API's."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest

from api.schemas.taps import MAX_TAPS
from ledger import clock
from ledger.directions import DirectionMode
from readers.http_transport import HttpTransport
from readers.identity import CardIdentity
from readers.spool import Spool
from readers.transport import MAX_BATCH
from tests.pg import free_port
from tests.readers_support.processes import wait_for
from tests.readers_support.real_api import START_TIMEOUT, cli, ledger_command, new_token

pytestmark = pytest.mark.slow
AT = datetime(2025, 6, 20, 7, 0, tzinfo=clock.JST)
TAPS_FROM = re.compile(r'^(127\.0\.0\.1:\d+) - "POST /v1/taps HTTP/1\.1" 200')


@contextmanager
def serving(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """`ledger serve` with its access log (JSON lines), stopped with SIGTERM."""
    with log.open("ab") as output:
        process = subprocess.Popen([*ledger_command(), "serve", "--port", str(port)], env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: f"Uvicorn running on http://127.0.0.1:{port}" in log.read_text()
                 or process.poll() is not None, "`ledger serve` to listen",
                 timeout=START_TIMEOUT)
        assert process.poll() is None, log.read_text()
        yield
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            process.wait()


def clients_of_taps(log: Path) -> list[str]:
    """The client address of each POST /v1/taps in the server's access log."""
    lines = [orjson.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    found = [TAPS_FROM.match(line["message"]) for line in lines
             if line["logger"] == "uvicorn.access"]
    return [match.group(1) for match in found if match]


def test_the_agents_batch_limit_is_the_apis() -> None:
    assert MAX_BATCH == MAX_TAPS


def test_uploads_share_one_kept_alive_connection_and_reconnect_after_a_restart(
    sqlite_url: str, tmp_path: Path,
) -> None:
    env = {**os.environ, "LEDGER_DATABASE_URL": sqlite_url, "LEDGER_LOG_FORMAT": "json",
           "LEDGER_JOBS_OUTPUT_DIR": str(tmp_path / "settlements")}
    cli(env, "migrate")
    cli(env, "business", "register", "100", "鈴木建設")
    cli(env, "site", "open", "10000000000001", "新宿現場", "100", "electronic", "2025-01-06")
    cli(env, "reader", "register", "GATE-1", "10000000000001", "auto")
    token = new_token(env, "--role", "reader", "--reader", "GATE-1")
    spool = Spool(tmp_path / "spool.db", "GATE-1", first_sequence=1)
    spool.record_all([(CardIdentity(card_id=f"0400{n:04X}"), AT + timedelta(minutes=n))
                      for n in range(8)], DirectionMode.AUTO, timedelta(seconds=10))
    port = free_port()
    first_log = tmp_path / "first.log"

    def upload(transport: HttpTransport, batch: list[int]) -> None:
        taps = [tap for tap in spool.pending(8) if tap.sequence in batch]
        ack = transport.send(taps)
        assert [result.status for result in ack.results] == ["flagged"] * len(batch)

    transport = HttpTransport(f"http://127.0.0.1:{port}", token)
    try:
        with serving(env, port, first_log):
            for batch in ([1, 2], [3, 4], [5, 6]):
                upload(transport, batch)
        assert transport.connections_opened == 1
        with serving(env, port, tmp_path / "second.log"):
            upload(transport, [7, 8])  # the kept connection died with the first server
        assert transport.connections_opened == 2
    finally:
        transport.close()
        spool.close()
    # The server's side: the three batches came over one connection (one client port).
    clients = clients_of_taps(first_log)
    assert len(clients) == 3 and len(set(clients)) == 1, clients
    assert len(clients_of_taps(tmp_path / "second.log")) == 1
