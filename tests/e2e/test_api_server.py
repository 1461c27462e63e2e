"""End to end: `ledger serve` (a real uvicorn process) on a fresh PostgreSQL database, keys made
with the CLI, clients over HTTP on 127.0.0.1 — and the server killed (SIGKILL) during a batch.

No step waits on a clock: each wait ends when the server says something or exits.
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import psycopg
import pytest

from ledger import clock
from ledger.application import Ledger
from ledger.domain.taps import COMPACT_TOPIC, tap_aggregate_id
from ledger.settings import Settings

pytestmark = pytest.mark.slow
LEDGER = [sys.executable, "-c", "from api.cli import main; main()"]
LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")
TOKEN = re.compile(r"^ldg_\S+$", re.MULTILINE)
TECHNICIAN, SITE, READER, CARD = "12345678901234", "10000000000001", "GATE-1", "04A1B2C3"
BATCH = 5_000


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed on the way out."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture(name="env")
def env_fixture(postgres_url: str, tmp_path: Path) -> dict[str, str]:
    """The served app runs the nightly jobs too: their files go to the test's folder."""
    return {**os.environ, "LEDGER_DATABASE_URL": postgres_url, "COLUMNS": "200",
            "LEDGER_JOBS_OUTPUT_DIR": str(tmp_path / "settlements")}


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[Server]:
    """`ledger serve` on a free port; yields once uvicorn says where it listens (in `log`, a
    new file for each server)."""
    with log.open("ab") as output:
        process = subprocess.Popen([*LEDGER, "serve", "--port", "0", "--no-access-log"], env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        while not (found := LISTENING.search(log.read_text())):
            assert process.poll() is None, f"the server exited:\n{log.read_text()}"
            time.sleep(0.05)
        yield Server(process, found.group(1))
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def cli(env: dict[str, str], *arguments: str) -> str:
    done = subprocess.run([*LEDGER, *arguments], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def new_token(env: dict[str, str], *arguments: str) -> str:
    tokens = TOKEN.findall(cli(env, "keys", "create", *arguments))
    assert len(tokens) == 1
    return str(tokens[0])


@dataclass
class Parties:
    admin: str
    prime: str
    employer: str
    worker: str
    reader: str


def set_up_a_site(env: dict[str, str], url: str) -> Parties:
    parties = Parties(
        admin=new_token(env, "--role", "admin", "--name", "e2e"),
        prime=new_token(env, "--role", "prime_contractor", "--business", "100"),
        employer=new_token(env, "--role", "employer", "--business", "200"),
        worker=new_token(env, "--role", "worker", "--worker", TECHNICIAN),
        reader=new_token(env, "--role", "reader", "--reader", READER),
    )
    steps: list[tuple[str, str, str, dict[str, Any]]] = [
        (parties.admin, "POST", "/v1/businesses", {"business_id": "100", "name": "鈴木建設"}),
        (parties.admin, "POST", "/v1/businesses", {"business_id": "200", "name": "田中鉄筋"}),
        (parties.admin, "POST", "/v1/workers", {"technician_id": TECHNICIAN, "name": "山田"}),
        (parties.employer, "POST", f"/v1/workers/{TECHNICIAN}/employments",
         {"business_id": "200", "since": "2020-04-01", "primary": True}),  # a request …
        (parties.worker, "POST", f"/v1/workers/{TECHNICIAN}/employment-requests/200/confirm",
         {}),  # … that counts once the worker confirms it
        (parties.prime, "POST", "/v1/sites", {"site_id": SITE, "name": "新宿", "prime_business_id":
                                              "100", "kentaikyo_method": "electronic",
                                              "opened_on": "2024-01-09"}),
        (parties.prime, "POST", f"/v1/sites/{SITE}/subcontracts",
         {"business_id": "200", "parent_business_id": "100"}),
        (parties.prime, "PUT", f"/v1/sites/{SITE}/roster/{TECHNICIAN}",
         {"employer_business_id": "200", "trade": "鉄筋", "position": "一般",
          "since": "2024-01-09"}),
        (parties.prime, "POST", "/v1/readers", {"reader_id": READER, "site_id": SITE}),
        (parties.admin, "POST", "/v1/cards", {"card_id": CARD, "technician_id": TECHNICIAN}),
    ]
    with httpx.Client(base_url=url, timeout=None) as client:
        for token, method, path, body in steps:
            response = client.request(method, path, json=body, headers=bearer(token))
            assert response.is_success, (path, response.text)
    return parties


def client_of(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=None)  # no wall-clock limit


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def taps(first: int, count: int) -> list[dict[str, Any]]:
    return [{"tap_id": f"{READER}:{n}", "reader_id": READER, "card_id": CARD,
             "technician_id": None, "direction": "in" if n % 2 else "out",
             "reader_time": "2025-06-20T07:58:00+09:00"} for n in range(first, first + count)]


def stored(database_url: str, tap_ids: list[str]) -> tuple[int, int]:
    """(Tap.Recorded events in the log, events of these taps) — straight from the table."""
    with psycopg.connect(database_url) as conn:
        total = conn.execute("SELECT count(*) FROM ledger_events "
                             "WHERE topic LIKE '%%:Tap.Recorded' OR topic = %s",
                             [COMPACT_TOPIC]).fetchone()
        ours = conn.execute("SELECT count(*) FROM ledger_events WHERE originator_id = ANY(%s)",
                            ([tap_aggregate_id(t) for t in tap_ids],)).fetchone()
    assert total is not None and ours is not None
    return int(total[0]), int(ours[0])


def test_taps_and_an_approved_manual_entry_over_http(
    env: dict[str, str], postgres_url: str, tmp_path: Path
) -> None:
    with serving(env, tmp_path / "server.log") as server, client_of(server) as client:
        parties = set_up_a_site(env, server.url)
        sent = client.post("/v1/taps", json={"taps": taps(1, 3)}, headers=bearer(parties.reader))
        assert [r["status"] for r in sent.json()["results"]] == ["accepted"] * 3

        work_date = (clock.now().astimezone(clock.JST) - timedelta(days=1)).date().isoformat()
        entry = client.post("/v1/manual-entries", headers=bearer(parties.worker), json={
            "technician_id": TECHNICIAN, "site_id": SITE, "work_date": work_date,
            "employer_business_id": "200", "trade": "鉄筋", "position": "一般",
            "work_content": "配筋", "note": "forgot my card"})
        assert entry.status_code == 201, entry.text
        request_id = entry.json()["request_id"]
        approved = client.post(f"/v1/manual-entries/{request_id}/approve",
                               headers=bearer(parties.prime))
        assert approved.status_code == 200, approved.text

    ledger = Ledger(Settings(database_url=postgres_url))
    try:
        log = {position: (type(e).__qualname__, str(vars(e)["actor"]), vars(e).get("tap_id"))
               for position, e in ledger.iter_log()}
    finally:
        ledger.close()
    tap_events = [(kind, actor, tap_id) for kind, actor, tap_id in log.values()
                  if kind == "Tap.Recorded"]
    assert tap_events == [("Tap.Recorded", f"reader:{READER}", f"{READER}:{n}") for n in (1, 2, 3)]
    assert log[entry.json()["position"]][:2] == ("ManualEntry.Requested", f"worker:{TECHNICIAN}")
    assert log[approved.json()["position"]][:2] == ("ApprovableRequest.Approved",
                                                    "prime_contractor:100")


@contextmanager
def raw_post(url: str, token: str, body: bytes, send: int) -> Iterator[socket.socket]:
    """POST /v1/taps by hand, sending only the first `send` bytes of the body."""
    parts = urlsplit(url)
    head = (f"POST /v1/taps HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(head + body[:send])
        yield sock


@pytest.mark.parametrize("kill_when", ["mid-upload", "as-soon-as-sent", "once-committed"])
def test_a_batch_cut_short_by_sigkill_is_stored_whole_or_not_at_all_and_once_on_retry(
    env: dict[str, str], postgres_url: str, tmp_path: Path, kill_when: str
) -> None:
    batch = taps(1, BATCH)
    tap_ids = [t["tap_id"] for t in batch]
    body = orjson.dumps({"taps": batch})
    with serving(env, tmp_path / "first.log") as server:
        parties = set_up_a_site(env, server.url)
        send = len(body) // 2 if kill_when == "mid-upload" else len(body)
        with raw_post(server.url, parties.reader, body, send) as sock:
            if kill_when == "once-committed":  # until the batch is visible, or an answer comes
                while stored(postgres_url, tap_ids)[1] == 0:
                    assert not select.select([sock], [], [], 0)[0], sock.recv(4096)
                    time.sleep(0.005)
            server.kill()
        after_kill = stored(postgres_url, tap_ids)

    assert after_kill in ((0, 0), (BATCH, BATCH)), "a batch is one transaction"
    if kill_when == "mid-upload":
        assert after_kill == (0, 0), "half a body cannot have been stored"
    if kill_when == "once-committed":
        assert after_kill == (BATCH, BATCH)

    with serving(env, tmp_path / "restarted.log") as server, client_of(server) as client:
        retry = client.post("/v1/taps", content=body, headers=bearer(parties.reader)
                            | {"Content-Type": "application/json"})
    statuses = {r["status"] for r in retry.json()["results"]}
    assert statuses == ({"duplicate"} if after_kill[0] else {"accepted"})
    assert stored(postgres_url, tap_ids) == (BATCH, BATCH), "each tap exactly once"


def test_the_first_start_creates_an_admin_key_and_prints_it_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    with serving(env, tmp_path / "first.log") as server, client_of(server) as client:
        tokens = TOKEN.findall((tmp_path / "first.log").read_text())
        assert len(tokens) == 1
        response = client.post("/v1/businesses", json={"business_id": "1", "name": "x"},
                               headers=bearer(tokens[0]))
        assert response.status_code == 201, response.text
    with serving(env, tmp_path / "second.log"):
        second = (tmp_path / "second.log").read_text()
    assert not TOKEN.search(second)
    assert "ledger keys create --role admin --name NAME" in second
    assert "first-admin" in cli(env, "keys", "list")
