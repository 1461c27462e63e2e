"""The whole gate, end to end: a virtual card on a real PC/SC stack (pcscd + vpcd), read by the
``ledger-reader run`` process through pyscard, spooled, and uploaded over HTTP to the ledger."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from readers.spool import DELIVERED, Spool
from tests.readers_support.cards import uid_card
from tests.readers_support.contract_server import (
    ContractServer,
    recorded_taps,
    running,
    sqlite_ledger,
)
from tests.readers_support.pcsc import VirtualReader, virtual_reader_or_skip
from tests.readers_support.processes import Agent, wait_for
from tests.readers_support.vicc import VirtualCard

TOKEN, UID = "token-of-gate-1", bytes.fromhex("04C0FFEE123456")


@pytest.fixture(scope="module")
def virtual_reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualReader]:
    with virtual_reader_or_skip(tmp_path_factory.mktemp("pcscd")) as reader:
        yield reader


def test_a_worker_taps_in_and_out_and_the_ledger_records_both_once(
    virtual_reader: VirtualReader, tmp_path: Path,
) -> None:
    spool = tmp_path / "gate-1.db"
    server = ContractServer(sqlite_ledger(tmp_path), {TOKEN: "GATE-1"})
    arguments = ["run", "--reader-id", "GATE-1", "--reader-name", virtual_reader.name,
                 "--spool", str(spool), "--server", server.url, "--token", TOKEN,
                 "--direction", "auto", "--debounce", "0", "--max-backoff", "0.5"]
    with running(server), Agent(arguments, tmp_path) as agent:
        wait_for(lambda: "watching" in agent.output(), "the agent to watch the reader")
        for taps_in_ledger in (1, 2):
            card = VirtualCard(virtual_reader.port, uid_card(UID))
            card.insert()
            wait_for(lambda n=taps_in_ledger: len(recorded_taps(server.ledger)) == n,
                     f"tap {taps_in_ledger} in the ledger")
            card.remove()
            wait_for(lambda n=taps_in_ledger: agent.output().count("card left") == n,
                     "the agent to see the card go")
        agent.process.send_signal(signal.SIGTERM)
        assert agent.finish() == 0, agent.output()
        events = recorded_taps(server.ledger)
    assert [(e.reader_id, e.card_id, e.direction.value) for e in events] == [
        ("GATE-1", UID.hex().upper(), "in"), ("GATE-1", UID.hex().upper(), "out")]
    stored = Spool.open_existing(spool)
    assert [t.tap_id for t in stored.taps(DELIVERED)] == [e.tap_id for e in events]
    assert "OK GATE-1:" in agent.output()  # the worker was told, after the tap was spooled
