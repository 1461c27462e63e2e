"""The reader against the real thing: `ledger serve` (uvicorn) as a subprocess on a port chosen
beforehand, the `ledger` CLI for keys, the ledger's own log as the truth, and a forwarding proxy
that can keep back one of the ledger's answers (the batch is committed; the agent never hears so).

Every wait is bounded and ends on an event (a line in a log, an answer, an exit), never on a clock.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg

from ledger.application import Ledger
from ledger.domain.taps import COMPACT_TOPIC
from ledger.settings import Settings
from tests.readers_support.processes import wait_for

TOKEN = re.compile(r"^ldg_\S+$", re.MULTILINE)
START_TIMEOUT = 120.0  # seconds for `ledger serve` to migrate and listen (a bound, not a pace)
STOP_TIMEOUT = 60.0


def ledger_command() -> list[str]:
    script = Path(sys.executable).with_name("ledger")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from api.cli import main; main()"]


def ledger_env(database_url: str, jobs_dir: Path) -> dict[str, str]:
    """The served app runs the nightly jobs too: their files go to the test's folder."""
    return {**os.environ, "LEDGER_DATABASE_URL": database_url, "COLUMNS": "200",
            "PYTHONUNBUFFERED": "1", "LEDGER_JOBS_OUTPUT_DIR": str(jobs_dir)}


def cli(env: dict[str, str], *arguments: str) -> str:
    done = subprocess.run([*ledger_command(), *arguments], env=env, capture_output=True,
                          text=True, timeout=START_TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def new_token(env: dict[str, str], *arguments: str) -> str:
    """`ledger keys create …`: the token it prints once."""
    tokens = TOKEN.findall(cli(env, "keys", "create", *arguments))
    assert len(tokens) == 1, tokens
    return str(tokens[0])


class LedgerServer:
    """One `ledger serve --host 127.0.0.1 --port N` process; stopped by its PID (SIGTERM, then
    SIGKILL if it will not go)."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.url, self.log = f"http://127.0.0.1:{port}", log
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [*ledger_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--no-access-log"], env=env, stdout=output, stderr=subprocess.STDOUT)
        listening = f"Uvicorn running on {self.url}"
        try:
            wait_for(lambda: listening in self.output() or self.process.poll() is not None,
                     f"`ledger serve` to listen on {self.url}", timeout=START_TIMEOUT)
            assert self.process.poll() is None, f"the server exited:\n{self.output()[-4000:]}"
        except BaseException:
            self.stop()
            raise

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __enter__(self) -> LedgerServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers=bearer(token), timeout=START_TIMEOUT)


# -- the truth: the ledger's log -------------------------------------------------------------------
@dataclass(frozen=True)
class LoggedTap:
    position: int
    tap_id: str
    card_id: str | None
    direction: str


def logged_taps(database_url: str) -> list[LoggedTap]:
    """Every Tap.Recorded event in the log, in recorded order, read with the ledger itself."""
    ledger = Ledger(Settings(database_url=database_url))
    try:
        return [LoggedTap(position, event.tap_id, event.card_id, event.direction.value)  # type: ignore[attr-defined]
                for position, event in ledger.iter_log()
                if type(event).__qualname__ == "Tap.Recorded"]
    finally:
        ledger.close()


def log_head(database_url: str) -> int:
    ledger = Ledger(Settings(database_url=database_url))
    try:
        return ledger.log_position()
    finally:
        ledger.close()


def tap_count(database_url: str) -> int:
    """A cheap count for polling while an upload runs (the assertions use `logged_taps`)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM ledger_events "
                           "WHERE topic LIKE '%%:Tap.Recorded' OR topic = %s",
                           [COMPACT_TOPIC]).fetchone()
    assert row is not None
    return int(row[0])


def api_log(api: httpx.Client, event_type: str) -> list[dict[str, Any]]:
    """The API's view of the log (`GET /v1/audit/events`, page by page), one event type."""
    entries: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 1000}
    while True:
        page = api.get("/v1/audit/events", params=params)
        assert page.status_code == 200, page.text
        document = page.json()
        entries += [e for e in document["items"] if e["event_type"] == event_type]
        if document["next_cursor"] is None:
            return entries
        params = {"limit": 1000, "cursor": document["next_cursor"]}


# -- a proxy that keeps one answer back ------------------------------------------------------------
class HoldingProxy:
    """Forwards each request to the ledger and its answer back, except the `hold`-th answer:
    once the ledger has sent it (the batch is committed), `held` is set and the answer waits
    for `release` — the agent can be killed while it waits for an answer that exists."""

    def __init__(self, upstream: str, hold: int) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname == "127.0.0.1" and parts.port is not None
        self.upstream, self.hold = (parts.hostname, parts.port), hold
        self.held, self.release = threading.Event(), threading.Event()
        self.answered: list[int] = []  # the status of each answer the ledger gave
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self.httpd.daemon_threads = True
        self.httpd.proxy = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def forward(self, method: str, path: str, headers: dict[str, str],
                body: bytes) -> tuple[int, str, bytes]:
        upstream = http.client.HTTPConnection(*self.upstream, timeout=START_TIMEOUT)
        try:
            upstream.request(method, path, body=body, headers=headers)
            response = upstream.getresponse()
            answer = (response.status, response.getheader("Content-Type") or "", response.read())
        finally:
            upstream.close()
        with self._lock:
            self.answered.append(answer[0])
            hold_this = len(self.answered) == self.hold
        if hold_this:
            self.held.set()
            self.release.wait(timeout=START_TIMEOUT)
        return answer

    def __enter__(self) -> HoldingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # the stdlib's name
        proxy: HoldingProxy = self.server.proxy  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name: value for name, value in self.headers.items()
                   if name.lower() in ("authorization", "content-type", "accept")}
        status, content_type, payload = proxy.forward("POST", self.path, headers, body)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the agent is gone (killed); it learns the outcome on its retry
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

