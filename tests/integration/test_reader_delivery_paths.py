"""Both transports against a real Ledger: in-process (SQLite and PostgreSQL) and HTTP (a real
server on 127.0.0.1 speaking the /v1/taps contract). Truth is the ledger's own log."""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.registry import DirectionMode
from readers.delivery import UploadAck
from readers.http_transport import HttpTransport
from readers.identity import CardIdentity
from readers.inprocess import InProcessTransport
from readers.spool import DEAD, DELIVERED, Spool
from readers.transport import BatchRefused, TransportUnauthorized, TransportUnavailable
from readers.uploader import Uploader
from tests.readers_support.contract_server import (
    ContractServer,
    recorded_taps,
    running,
    sqlite_ledger,
)

AT = datetime(2025, 6, 2, 7, 58, tzinfo=JST)
TOKEN = "reader-token-R1"


def filled_spool(path: Path, taps: int = 25) -> Spool:
    spool = Spool(path, "R1", first_sequence=1)
    spool.record_all([(CardIdentity(card_id=f"0400{n:04X}"), AT + timedelta(minutes=n))
                      for n in range(taps)], DirectionMode.AUTO, timedelta(seconds=10))
    return spool


def corrupt_one_tap(spool: Spool, sequence: int) -> None:
    """A tap the ledger must reject (as if written by an older, buggier agent)."""
    with spool._write() as db:
        db.execute("UPDATE taps SET card_id = 'not-hex' WHERE sequence = ?", (sequence,))


def assert_ledger_holds_exactly(ledger: Ledger, spool: Spool) -> None:
    events = recorded_taps(ledger)
    delivered = {t.tap_id: t for t in spool.taps(DELIVERED)}
    assert sorted(e.tap_id for e in events) == sorted(delivered)  # each once, none missing
    for event in events:
        tap = delivered[event.tap_id]
        assert (event.reader_id, event.card_id, event.direction.value, event.reader_time) == (
            "R1", tap.card_id, tap.direction.value, tap.reader_time)


def register_r1(ledger: Ledger) -> Ledger:
    """R1 registered to a site: a reader appends with its own key only while registered."""
    admin = Actor(Role.ADMIN, "ops")
    ledger.register_business("100", "元請", admin)
    ledger.open_site("10000000000001", "現場", "100", "electronic", AT.date(), admin)
    ledger.register_reader("R1", "10000000000001", "auto", admin)
    return ledger


# -- in-process ------------------------------------------------------------------------------
@pytest.fixture(name="ledger")
def registered_ledger_fixture(ledger: Ledger) -> Ledger:
    return register_r1(ledger)


def test_in_process_delivery_stores_each_tap_once(ledger: Ledger, tmp_path: Path) -> None:
    spool = filled_spool(tmp_path / "spool.db")
    Uploader(spool, InProcessTransport(ledger, "R1"), batch_size=10).run(until_drained=True)
    assert spool.status().pending == 0
    assert_ledger_holds_exactly(ledger, spool)


def test_in_process_resend_after_a_lost_acknowledgement_is_a_duplicate(
    ledger: Ledger, tmp_path: Path,
) -> None:
    spool = filled_spool(tmp_path / "spool.db", taps=5)
    transport = InProcessTransport(ledger, "R1")
    first = transport.send(spool.pending(5))  # stored, but the agent "crashed" before settling
    Uploader(spool, transport).run(until_drained=True)
    # answered as over HTTP: no card here was issued, so each tap is flagged
    assert all(r.status == "flagged" and r.flags == ("unknown_card",)
               for r in first.results), first.results
    assert len(recorded_taps(ledger)) == 5 and spool.status().delivered == 5


def test_in_process_rejects_a_malformed_tap_without_failing_its_batch(
    ledger: Ledger, tmp_path: Path,
) -> None:
    spool = filled_spool(tmp_path / "spool.db", taps=6)
    corrupt_one_tap(spool, 4)
    Uploader(spool, InProcessTransport(ledger, "R1")).run(until_drained=True)
    assert [(t.tap_id, reason[:7]) for t, reason in spool.dead_letters()] == [("R1:4", "card_id")]
    assert len(spool.taps(DELIVERED)) == 5
    assert_ledger_holds_exactly(ledger, spool)


@pytest.mark.parametrize("failure", ["closed", "broken"])
def test_in_process_a_failing_database_is_unavailable_not_a_crash(
    tmp_path: Path, failure: str,
) -> None:
    ledger = sqlite_ledger(tmp_path)
    spool = filled_spool(tmp_path / "spool.db", taps=2)
    if failure == "closed":
        ledger.close()
    else:
        with sqlite3.connect(tmp_path / "ledger.db") as db:
            db.execute("ALTER TABLE stored_events RENAME TO gone")
    with pytest.raises(TransportUnavailable, match="ledger database"):
        Uploader(spool, InProcessTransport(ledger, "R1")).upload_once()
    assert spool.status().pending == 2


# -- HTTP ------------------------------------------------------------------------------------
@pytest.fixture
def server(tmp_path: Path) -> Iterator[ContractServer]:
    with running(ContractServer(sqlite_ledger(tmp_path), {TOKEN: "R1"})) as server:
        yield server
    server.ledger.close()


def test_http_delivery_stores_each_tap_once_and_reads_the_servers_clock(
    server: ContractServer, tmp_path: Path,
) -> None:
    spool = filled_spool(tmp_path / "spool.db")
    Uploader(spool, HttpTransport(server.url, TOKEN), batch_size=10).run(until_drained=True)
    assert server.batches == 3 and spool.status().pending == 0
    assert_ledger_holds_exactly(server.ledger, spool)
    offset = spool.status().clock_offset_seconds
    assert offset is not None and abs(offset) < 3600  # same machine: measured, and sane


def test_http_resend_is_answered_duplicate_and_counts_as_delivered(
    server: ContractServer, tmp_path: Path,
) -> None:
    spool = filled_spool(tmp_path / "spool.db", taps=3)
    transport = HttpTransport(server.url, TOKEN)
    transport.send(spool.pending(3))  # the answer is "lost"
    ack = transport.send(spool.pending(3))
    assert [r.status for r in ack.results] == ["duplicate"] * 3
    assert len(recorded_taps(server.ledger)) == 3


def test_http_rejected_tap_is_dead_lettered_and_the_rest_delivered(
    server: ContractServer, tmp_path: Path,
) -> None:
    spool = filled_spool(tmp_path / "spool.db", taps=4)
    corrupt_one_tap(spool, 2)
    Uploader(spool, HttpTransport(server.url, TOKEN)).run(until_drained=True)
    assert [t.tap_id for t in spool.taps(DEAD)] == ["R1:2"]
    assert_ledger_holds_exactly(server.ledger, spool)


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, TransportUnauthorized), (403, TransportUnauthorized), (500, TransportUnavailable),
     (503, TransportUnavailable), (429, TransportUnavailable), (422, BatchRefused),
     (400, BatchRefused), (404, TransportUnavailable)],
)
def test_http_status_codes_map_to_how_the_uploader_retries(
    server: ContractServer, tmp_path: Path, status: int, error: type[Exception],
) -> None:
    server.force_status = status
    spool = filled_spool(tmp_path / "spool.db", taps=2)
    with pytest.raises(error, match=f"HTTP {status}"):
        HttpTransport(server.url, TOKEN).send(spool.pending(2))
    assert recorded_taps(server.ledger) == []


def test_http_a_wrong_token_is_unauthorized(server: ContractServer, tmp_path: Path) -> None:
    spool = filled_spool(tmp_path / "spool.db", taps=1)
    with pytest.raises(TransportUnauthorized, match="401"):
        HttpTransport(server.url, "stolen").send(spool.pending(1))


def test_http_nobody_listening_is_unavailable(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spool = filled_spool(tmp_path / "spool.db", taps=1)
    with pytest.raises(TransportUnavailable, match="refused"):
        HttpTransport(f"http://127.0.0.1:{port}", TOKEN).send(spool.pending(1))


def test_http_a_server_that_never_answers_times_out_as_unavailable(
    server: ContractServer, tmp_path: Path,
) -> None:
    server.hang = threading.Event()
    spool = filled_spool(tmp_path / "spool.db", taps=1)
    try:
        with pytest.raises(TransportUnavailable, match="timed out"):
            HttpTransport(server.url, TOKEN, timeout=0.5).send(spool.pending(1))
    finally:
        server.hang.set()


def test_http_transport_returns_the_contracts_positions(
    server: ContractServer, tmp_path: Path,
) -> None:
    spool = filled_spool(tmp_path / "spool.db", taps=2)
    ack: UploadAck = HttpTransport(server.url, TOKEN).send(spool.pending(2))
    positions = [r.position for r in ack.results]
    assert all(isinstance(p, int) for p in positions) and positions == sorted(positions)
    assert ack.position == server.ledger.log_position()
