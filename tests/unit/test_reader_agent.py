"""The gate agent and the pyscard observer, with fake cards and real pyscard exceptions."""

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from smartcard.Exceptions import CardConnectionException, NoCardException

from ledger.clock import JST, FixedClock
from readers.agent import GateAgent
from readers.apdu import UidProfile
from readers.identity import CardIdentity
from readers.monitor import GateObserver, PcscConnection
from readers.spool import Spool
from tests.readers_support.fakes import RecordingFeedback, RecordingSink

AT = datetime(2025, 6, 2, 7, 58, tzinfo=JST)
CARD = CardIdentity(card_id="04A1B2C3")


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool.db", "R1", first_sequence=1)


def agent(spool: Spool, feedback: RecordingFeedback, **options: Any) -> GateAgent:
    return GateAgent(spool, feedback=feedback, clock=FixedClock(AT), **options)


def test_success_is_signalled_only_after_the_tap_is_in_the_spool(spool: Spool) -> None:
    seen_in_spool: list[int] = []

    class Checking(RecordingFeedback):
        def accepted(self, tap: Any) -> None:
            with sqlite3.connect(spool.path) as other:  # a separate connection: committed?
                seen_in_spool.append(other.execute("SELECT count(*) FROM taps").fetchone()[0])
            super().accepted(tap)

    woken: list[bool] = []
    feedback = Checking()
    tap = agent(spool, feedback, on_spooled=lambda: woken.append(True)).card_read(CARD)
    assert tap is not None and feedback.accepted_taps == [tap]
    assert seen_in_spool == [1] and woken == [True]


def test_a_repeat_within_the_window_is_acknowledged_but_not_stored_again(spool: Spool) -> None:
    feedback = RecordingFeedback()
    gate = agent(spool, feedback, debounce=timedelta(seconds=10))
    gate.card_read(CARD)
    assert gate.card_read(CARD) is None
    assert feedback.repeats == [CARD] and len(spool.taps()) == 1


def test_a_spool_that_cannot_store_the_tap_is_a_failure_signal_never_success(
    spool: Spool,
) -> None:
    feedback = RecordingFeedback()
    spool.close()  # any write now fails
    assert agent(spool, feedback).card_read(CARD) is None
    assert feedback.accepted_taps == [] and "could not store the tap" in feedback.failures[0]


def test_a_negative_debounce_is_refused(spool: Spool) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        GateAgent(spool, debounce=timedelta(seconds=-1))


class FakePyscardConnection:
    def __init__(self, transmit: Any = None, connect_error: Exception | None = None) -> None:
        self._transmit, self.connect_error = transmit, connect_error
        self.released = False

    def connect(self) -> None:
        if self.connect_error is not None:
            raise self.connect_error

    def transmit(self, command: list[int]) -> Any:
        if isinstance(self._transmit, Exception):
            raise self._transmit
        return self._transmit

    def disconnect(self) -> None:
        raise CardConnectionException("card already gone")  # must not hide the result

    def release(self) -> None:
        self.released = True


class FakePyscardCard:
    def __init__(self, reader: str, connection: FakePyscardConnection | None) -> None:
        self.reader, self.connection = reader, connection

    def createConnection(self) -> FakePyscardConnection | None:  # pyscard's name
        return self.connection


def test_the_observer_reads_cards_presented_to_its_reader_only() -> None:
    sink = RecordingSink()
    observer = GateObserver(sink, UidProfile(), reader_name="Gate 1")
    gate = FakePyscardCard("ACS ACR122U Gate 1 00", FakePyscardConnection(([4, 0xA1], 0x90, 0)))
    office = FakePyscardCard("Office reader 00", FakePyscardConnection(([4, 0xB2], 0x90, 0)))
    observer.update(None, ([gate, office], []))
    assert sink.identities == [CardIdentity(card_id="04A1")] and sink.failures == []


@pytest.mark.parametrize(
    ("connection", "message"),
    [
        (FakePyscardConnection(connect_error=NoCardException("Unable to connect", -1)),
         "card removed before it could be read"),
        (FakePyscardConnection(transmit=CardConnectionException("Failed to transmit")),
         "card removed or reader failed during the read"),
        (FakePyscardConnection(transmit=([], 0x6A, 0x81)), "6A 81"),
        (None, "disappeared"),
    ],
)
def test_a_failed_read_reaches_the_agent_as_a_failure_never_as_an_identity(
    connection: FakePyscardConnection | None, message: str,
) -> None:
    sink = RecordingSink()
    GateObserver(sink, UidProfile()).update(None, ([FakePyscardCard("R 00", connection)], []))
    assert sink.identities == [] and len(sink.failures) == 1 and message in sink.failures[0]


def test_an_exception_in_the_agent_never_escapes_into_pyscards_monitor_thread() -> None:
    class Broken(RecordingSink):
        def card_read(self, identity: CardIdentity) -> None:
            raise RuntimeError("disk on fire")

    removed: list[str] = []
    observer = GateObserver(Broken(), UidProfile(), on_removed=removed.append)
    card = FakePyscardCard("R 00", FakePyscardConnection(([4, 0xA1], 0x90, 0)))
    observer.update(None, ([card], [card]))  # must not raise
    assert removed == ["R 00"]


def test_pcsc_connection_turns_pyscard_errors_into_card_removed() -> None:
    from readers.apdu import CardRemoved

    connection = PcscConnection(FakePyscardConnection(CardConnectionException("gone")))
    with pytest.raises(CardRemoved):
        connection.transmit([0xFF, 0xCA, 0, 0, 0])
