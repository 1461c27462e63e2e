"""The card path on a real PC/SC stack: pcscd + vpcd + a virtual card, read by pyscard's
CardMonitor exactly as a USB reader would be. Never skipped in CI (CI=true)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest

from readers.agent import GateAgent
from readers.apdu import Iso7816Profile, UidProfile
from readers.spool import Spool
from tests.readers_support.cards import iso_card, refusing_card, uid_card
from tests.readers_support.fakes import QueueFeedback
from tests.readers_support.pcsc import VirtualReader, in_ci, virtual_reader_or_skip
from tests.readers_support.vicc import VirtualCard

if not in_ci():
    pytest.importorskip("smartcard", reason="pyscard is not installed (`make setup`)")

from readers.monitor import GateObserver, watch

AID, EF = bytes.fromhex("F0434355530001"), bytes.fromhex("0101")


@pytest.fixture(scope="module")
def virtual_reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualReader]:
    with virtual_reader_or_skip(tmp_path_factory.mktemp("pcscd")) as reader:
        yield reader


@dataclass
class Gate:
    reader: VirtualReader
    spool: Spool
    feedback: QueueFeedback
    observer: GateObserver
    removals: queue.Queue[str]

    @contextmanager
    def presenting(self, answer: Callable[[bytes], bytes | None]) -> Iterator[VirtualCard]:
        """A card on the reader for the block; afterwards, wait until the monitor saw it go."""
        card = VirtualCard(self.reader.port, answer)
        card.insert()
        try:
            yield card
        finally:
            card.remove()
            # A card pulled from the other slot in an earlier test may be reported gone late.
            while (removed := self.removals.get(timeout=30)) != self.reader.name:
                assert removed == self.reader.slot(1)[0], removed

    def use_slot(self, number: int) -> int:
        """Watch vpcd's slot ``number`` instead; returns its card port."""
        name, port = self.reader.slot(number)
        self.observer.reader_name = name
        return port


@pytest.fixture(scope="module")
def gate(virtual_reader: VirtualReader, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gate]:
    spool = Spool(tmp_path_factory.mktemp("gate") / "spool.db", "GATE-1", first_sequence=1)
    feedback, removals = QueueFeedback(), queue.Queue[str]()
    agent = GateAgent(spool, feedback=feedback, debounce=timedelta(minutes=10))
    observer = GateObserver(agent, UidProfile(), virtual_reader.name, on_removed=removals.put)
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(observer, stop), daemon=True)
    thread.start()
    yield Gate(virtual_reader, spool, feedback, observer, removals)
    stop.set()
    thread.join(timeout=30)
    spool.close()


@pytest.fixture(autouse=True)
def uid_profile_on_slot_0_by_default(gate: Gate) -> Iterator[None]:
    gate.observer.profile = UidProfile()
    gate.observer.reader_name = gate.reader.name
    gate.use_slot(0)
    yield
    gate.use_slot(0)
    assert gate.feedback.events.empty(), "a test left a signal to the worker unchecked"


def test_a_uid_card_becomes_a_durable_tap_with_its_uid(gate: Gate) -> None:
    before = len(gate.spool.taps())
    with gate.presenting(uid_card(bytes.fromhex("04112233445566"))) as card:
        signal, tap = gate.feedback.next()
    assert signal == "accepted"
    assert card.apdus == [bytes.fromhex("FFCA000000")]
    assert [(t.tap_id, t.card_id, t.direction.value) for t in gate.spool.taps()[before:]] == [
        (tap.tap_id, "04112233445566", "in")]  # type: ignore[attr-defined]


def test_the_iso_profile_reads_the_technician_id_from_the_cards_file(gate: Gate) -> None:
    gate.observer.profile = Iso7816Profile(aid=AID, file_id=EF)
    with gate.presenting(iso_card(AID, EF, b"98765432109876")) as card:
        signal, tap = gate.feedback.next()
    assert signal == "accepted"
    assert tap.technician_id == "98765432109876" and tap.card_id is None  # type: ignore[attr-defined]
    assert [apdu.hex().upper() for apdu in card.apdus] == [
        "00A4040007F0434355530001", "00A4000C020101", "00B000000E"]


def test_a_card_answering_an_error_status_is_a_failed_read_and_no_tap(gate: Gate) -> None:
    before = len(gate.spool.taps())
    with gate.presenting(refusing_card(b"\x6a\x81")):
        signal, reason = gate.feedback.next()
    assert signal == "failed" and "6A 81 (function not supported)" in str(reason)
    assert len(gate.spool.taps()) == before


def test_a_card_pulled_away_mid_read_is_a_failed_read_and_no_tap(gate: Gate) -> None:
    # On vpcd's second slot: after a card vanishes mid-command, pcscd may take ~30 s to report
    # that slot empty, which must not hold up the other tests on slot 0.
    port = gate.use_slot(1)
    gate.observer.profile = Iso7816Profile(aid=AID, file_id=EF)
    before = len(gate.spool.taps())
    card = VirtualCard(port, iso_card(AID, EF, b"98765432109876", pull_on_read=True))
    card.insert()
    try:
        signal, reason = gate.feedback.next()
    finally:
        card.remove()
    assert signal == "failed" and "removed" in str(reason)
    assert [apdu[:2].hex().upper() for apdu in card.apdus] == ["00A4", "00A4", "00B0"]
    assert len(gate.spool.taps()) == before


def test_garbage_in_the_id_file_is_a_failed_read_and_no_tap(gate: Gate) -> None:
    gate.observer.profile = Iso7816Profile(aid=AID, file_id=EF)
    before = len(gate.spool.taps())
    with gate.presenting(iso_card(AID, EF, b"98765?321O9876")):
        signal, reason = gate.feedback.next()
    assert signal == "failed" and "not a 14-digit technician ID" in str(reason)
    assert len(gate.spool.taps()) == before


def test_the_same_card_presented_again_within_the_window_is_one_tap(gate: Gate) -> None:
    uid = bytes.fromhex("04AABBCCDDEEFF")
    with gate.presenting(uid_card(uid)):
        first = gate.feedback.next()
    with gate.presenting(uid_card(uid)):
        second = gate.feedback.next()
    assert first[0] == "accepted" and second[0] == "repeated"
    assert sum(t.card_id == uid.hex().upper() for t in gate.spool.taps()) == 1


def test_the_apdus_went_through_pcscd(gate: Gate) -> None:
    assert "APDU: FF CA 00 00 00" in gate.reader.log.read_text()  # pcscd --apdu logs each one
