"""A real HTTP server for the `/v1/taps` contract on top of the in-process Ledger.

The reader's end-to-end tests deliver to it until the real API lands. It follows the contract
the reader was given: bearer token per reader, one transaction per batch, committed before the
answer, a malformed tap ``rejected`` without failing the batch.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger, TapReceipt
from ledger.domain.taps import Tap, TapObservation
from ledger.errors import LedgerError
from ledger.settings import Settings
from ledger.storage.migrate import migrate

MAX_TAPS = 1000


class ContractServer:
    def __init__(self, ledger: Ledger, tokens: dict[str, str], port: int = 0) -> None:
        self.ledger, self.tokens = ledger, tokens  # token → the reader it belongs to
        self.force_status: int | None = None  # answer every request with this, storing nothing
        self.after_commit: Callable[[list[TapReceipt]], None] | None = None  # e.g. block here
        self.hang: threading.Event | None = None  # when set, requests wait for it before answering
        self.batches = 0
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        # stop() waits for requests being answered: a handler still recording taps when the
        # test closes the ledger used a SQLite connection being closed (a segfault in CI).
        self.httpd.daemon_threads = False
        self.httpd.contract = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> ContractServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def record(self, reader_id: str, taps: list[Any]) -> dict[str, Any]:
        results: list[dict[str, Any] | None] = [None] * len(taps)
        observations, indexes = [], []
        for index, tap in enumerate(taps):
            try:
                observations.append(_observation(tap))
                indexes.append(index)
            except (LedgerError, KeyError, TypeError) as error:
                results[index] = _result(str(tap.get("tap_id")) if isinstance(tap, dict) else "",
                                         "rejected", reason=str(error))
        with self._lock:
            receipts = self.ledger.record_taps(observations, Actor(Role.READER, reader_id))
            self.batches += 1
        if self.after_commit is not None:
            self.after_commit(receipts)
        for index, receipt in zip(indexes, receipts, strict=True):
            results[index] = _result(receipt.tap_id, receipt.status, position=receipt.position)
        return {"results": results, "position": self.ledger.log_position(),
                "server_time": clock.now().isoformat()}


def _observation(tap: dict[str, Any]) -> TapObservation:
    return TapObservation(
        tap_id=tap["tap_id"], reader_id=tap["reader_id"], direction=tap["direction"],
        reader_time=clock.parse_datetime(tap["reader_time"], "reader_time"),
        card_id=tap.get("card_id"), technician_id=tap.get("technician_id"),
    )


def _result(tap_id: str, status: str, reason: str | None = None,
            position: int | None = None) -> dict[str, Any]:
    return {"tap_id": tap_id, "status": status, "flags": [], "reason": reason,
            "position": position}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # the stdlib's name
        contract: ContractServer = self.server.contract  # type: ignore[attr-defined]
        if self.path != "/v1/taps":
            return self._answer(404, {"detail": "not found"})
        if contract.force_status is not None:
            return self._answer(contract.force_status, {"detail": "forced by the test"})
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        reader_id = contract.tokens.get(token)
        if reader_id is None:
            return self._answer(401, {"detail": "unknown token"})
        try:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            taps = body["taps"]
            assert isinstance(taps, list)
        except (ValueError, KeyError, TypeError, AssertionError):
            return self._answer(422, {"detail": "body must be {\"taps\": [...]}"})
        if len(taps) > MAX_TAPS:
            return self._answer(413, {"detail": f"at most {MAX_TAPS} taps per request"})
        if any(isinstance(t, dict) and t.get("reader_id") != reader_id for t in taps):
            return self._answer(403, {"detail": "a reader appends its own taps only"})
        if contract.hang is not None:
            contract.hang.wait()
        self._answer(200, contract.record(reader_id, taps))

    def _answer(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the reader went away (killed); it will learn the outcome on its retry

    def log_message(self, format: str, *args: Any) -> None:
        pass


def sqlite_ledger(directory: Path) -> Ledger:
    settings = Settings(database_url=f"sqlite:///{directory / 'ledger.db'}")
    migrate(settings)
    return Ledger(settings)


def recorded_taps(ledger: Ledger) -> list[Any]:
    """Every Tap.Recorded event in the ledger's log: the truth about what was delivered."""
    return [event for _, event in ledger.iter_log() if isinstance(event, Tap.Recorded)]  # type: ignore[attr-defined]


@contextmanager
def running(server: ContractServer) -> Iterator[ContractServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()
