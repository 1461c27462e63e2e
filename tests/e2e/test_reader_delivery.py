"""Exactly-once delivery, end to end: the agent is a real process, the ledger a real HTTP server
on 127.0.0.1 over a real SQLite ledger, and the truth is the ledger's log of Tap.Recorded events.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
from pathlib import Path

from ledger.application import Ledger, TapReceipt
from readers.spool import Spool, SpoolError
from tests.pg import free_port
from tests.readers_support.contract_server import (
    ContractServer,
    recorded_taps,
    running,
    sqlite_ledger,
)
from tests.readers_support.processes import Agent, wait_for

SITE, TOKEN = "12345678901234", "token-of-the-simulated-reader"
READER = f"SIM-{SITE}"


def simulate(spool: Path, server: str, workers: int) -> list[str]:
    return ["simulate", "--site", SITE, "--workers", str(workers), "--rate", "0",
            "--date", "2025-06-02", "--transport", "http", "--server", server, "--token", TOKEN,
            "--spool", str(spool), "--batch-size", "50", "--max-backoff", "0.5"]


def spool_rows(spool: Path) -> dict[str, tuple[str, str | None]]:
    """tap ID → (state, the ledger's status for it), read straight from the spool file."""
    with sqlite3.connect(spool) as db:
        rows = db.execute("SELECT tap_id, state, server_status FROM taps").fetchall()
    return {tap_id: (state, status) for tap_id, state, status in rows}


def assert_exactly_once(ledger: Ledger, spool: Path) -> list[str]:
    rows = spool_rows(spool)
    ledger_ids = [event.tap_id for event in recorded_taps(ledger)]
    assert len(ledger_ids) == len(set(ledger_ids)), "a tap was recorded twice"
    assert set(ledger_ids) == set(rows), "the ledger and the spool disagree"
    assert {state for state, _ in rows.values()} == {"delivered"}
    return ledger_ids


def test_taps_made_while_the_ledger_is_down_are_delivered_exactly_once_when_it_is_back(
    tmp_path: Path,
) -> None:
    port, spool = free_port(), tmp_path / "sim.db"
    with Agent(simulate(spool, f"http://127.0.0.1:{port}", workers=60), tmp_path) as agent:
        wait_for(lambda: "taps spooled" in agent.output(), "the morning and evening waves")
        wait_for(lambda: _failed_uploads(spool) > 0, "an upload to fail: the server is down")
        assert {state for state, _ in spool_rows(spool).values()} == {"pending"}
        with running(ContractServer(sqlite_ledger(tmp_path), {TOKEN: READER}, port)) as server:
            assert agent.finish() == 0, agent.output()
            delivered = assert_exactly_once(server.ledger, spool)
    assert len(delivered) > 100  # 60 workers in and (most) out
    assert f"{len(delivered)} taps spooled" in agent.output()


def _failed_uploads(spool: Path) -> int:
    try:
        status = Spool.open_existing(spool)
    except SpoolError:
        return 0  # not created yet
    try:
        return 1 if status.status().last_error else 0
    finally:
        status.close()


def test_an_agent_killed_mid_upload_and_restarted_delivers_nothing_twice(tmp_path: Path) -> None:
    spool = tmp_path / "sim.db"
    server = ContractServer(sqlite_ledger(tmp_path), {TOKEN: READER})
    committed, release = threading.Event(), threading.Event()

    def hold_the_first_answer(receipts: list[TapReceipt]) -> None:
        if not committed.is_set():
            committed.set()  # the batch is in the ledger; its answer is not yet sent …
            release.wait(timeout=120)

    server.after_commit = hold_the_first_answer
    with running(server), Agent(simulate(spool, server.url, workers=100), tmp_path) as agent:
        assert committed.wait(timeout=60), agent.output()
        agent.process.send_signal(signal.SIGKILL)  # … and the agent dies waiting for it
        agent.process.wait(timeout=30)
        server.after_commit = None
        release.set()
        first_batch = [event.tap_id for event in recorded_taps(server.ledger)]
        assert 1 <= len(first_batch) <= 50  # however many were spooled when it went out
        assert all(state == "pending" for state, _ in spool_rows(spool).values())

        restarted = Agent(["upload", "--spool", str(spool), "--transport", "http", "--server",
                           server.url, "--token", TOKEN, "--exit-when-drained",
                           "--batch-size", "50", "--max-backoff", "0.5"], tmp_path, "restarted")
        with restarted:
            assert restarted.finish() == 0, restarted.output()
        assert_exactly_once(server.ledger, spool)
        rows = spool_rows(spool)
        assert {rows[tap_id][1] for tap_id in first_batch} == {"duplicate"}  # re-sent, recognised
        assert {status for tap_id, (_, status) in rows.items() if tap_id not in first_batch} == {
            "accepted"}
    server.ledger.close()
