"""A flagged tap at a gate with entry checks, end to end: a virtual card on a real PC/SC stack
(pcscd + vpcd), read by the ``ledger-reader run`` process through pyscard, spooled, delivered over
the single-box in-process transport to a ledger whose site requires entry checks; the ledger's
answer flags the tap (the worker's social insurance is not confirmed) and the agent warns at the
gate, after the tap was stored."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger import clock
from ledger.actors import Actor, Role
from readers.spool import DELIVERED, Spool
from tests.api_support import ADMIN, build_world
from tests.readers_support.cards import uid_card
from tests.readers_support.contract_server import recorded_taps, sqlite_ledger
from tests.readers_support.pcsc import VirtualReader, virtual_reader_or_skip
from tests.readers_support.processes import Agent, wait_for
from tests.readers_support.vicc import VirtualCard

UID = bytes.fromhex("04C0FFEE654321")


@pytest.fixture(scope="module")
def virtual_reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualReader]:
    with virtual_reader_or_skip(tmp_path_factory.mktemp("pcscd")) as reader:
        yield reader


def test_a_tap_flagged_by_the_entry_checks_is_stored_and_the_gate_warns(
    virtual_reader: VirtualReader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    now: clock.FixedClock,
) -> None:
    ledger = sqlite_ledger(tmp_path)  # registered at the fixed clock; the agent taps at today's
    world = build_world(ledger, 1)
    ledger.issue_card(UID.hex().upper(), world.worker, ADMIN)
    ledger.require_entry_checks(world.site, Actor(Role.PRIME_CONTRACTOR, world.prime))
    ledger.close()
    monkeypatch.setenv("LEDGER_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    spool = tmp_path / "gate.db"
    arguments = ["run", "--reader-id", world.reader, "--reader-name", virtual_reader.name,
                 "--spool", str(spool), "--transport", "inprocess",
                 "--direction", "auto", "--debounce", "0", "--max-backoff", "0.5"]
    with Agent(arguments, tmp_path) as agent:
        wait_for(lambda: "watching" in agent.output(), "the agent to watch the reader")
        card = VirtualCard(virtual_reader.port, uid_card(UID))
        card.insert()
        wait_for(lambda: "stored but flagged" in agent.output(), "the gate's warning")
        card.remove()
        agent.process.send_signal(signal.SIGTERM)
        assert agent.finish() == 0, agent.output()
    [stored] = Spool.open_existing(spool).taps(DELIVERED)
    output = agent.output()
    ok, warning = output.index(f"OK {stored.tap_id} "), output.index(f"WARNING {stored.tap_id} ")
    assert ok < warning  # told "stored" first, warned once the ledger answered
    assert "社会保険 未確認 social insurance not confirmed" in output[warning:]
    ledger = sqlite_ledger(tmp_path)
    try:  # the tap is in the log, as it came: nothing a reader sends is dropped
        assert [(e.tap_id, e.card_id) for e in recorded_taps(ledger)] == [
            (stored.tap_id, UID.hex().upper())]
    finally:
        ledger.close()
