"""The PC/SC side: pyscard's CardMonitor tells us when a card is presented; we read it with the
configured APDU profile and hand the result to the gate agent.

pyscard is imported lazily, so the spool, uploader and simulator work where it is not installed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from readers.apdu import ApduProfile, CardRemoved, ReadFailed
from readers.identity import CardIdentity

log = logging.getLogger(__name__)


class CardSink(Protocol):
    def card_read(self, identity: CardIdentity) -> object: ...

    def read_failed(self, reason: str) -> None: ...


class PcscConnection:
    """A pyscard connection whose failures (card gone, reader gone) become :class:`CardRemoved`."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def transmit(self, command: list[int]) -> tuple[list[int], int, int]:
        from smartcard.Exceptions import SmartcardException

        try:
            data, sw1, sw2 = self.connection.transmit(command)
        except SmartcardException as error:
            raise CardRemoved(f"card removed or reader failed during the read ({error})") from None
        return list(data), sw1, sw2


class GateObserver:
    """A pyscard CardObserver (it is registered with ``CardMonitor.addObserver``)."""

    def __init__(
        self, sink: CardSink, profile: ApduProfile, reader_name: str | None = None,
        on_removed: Callable[[str], None] | None = None,
    ) -> None:
        self.sink, self.profile, self.reader_name = sink, profile, reader_name
        self.on_removed = on_removed

    def watches(self, reader: object) -> bool:
        return self.reader_name is None or self.reader_name in str(reader)

    def update(self, observable: object, handlers: tuple[list[Any], list[Any]]) -> None:
        """Called by pyscard's monitoring thread. Must never raise: an exception here would
        end that thread, and the gate would silently stop reading cards."""
        added, removed = handlers
        for card in added:
            if self.watches(card.reader):
                self._safely(self.read_card, card)
        for card in removed:
            if self.watches(card.reader) and self.on_removed is not None:
                self._safely(self.on_removed, str(card.reader))

    def _safely(self, action: Callable[[Any], object], argument: Any) -> None:
        try:
            action(argument)
        except Exception:
            log.exception("card event handling failed")

    def read_card(self, card: Any) -> None:
        try:
            identity = self._read(card)
        except ReadFailed as error:
            log.warning("read failed on %s: %s", card.reader, error)
            self.sink.read_failed(str(error))
            return
        self.sink.card_read(identity)

    def _read(self, card: Any) -> CardIdentity:
        from smartcard.Exceptions import SmartcardException

        try:
            connection = card.createConnection()
        except SmartcardException as error:
            raise CardRemoved(f"cannot open reader {card.reader} ({error})") from None
        if connection is None:
            raise CardRemoved(f"reader {card.reader} disappeared")
        try:
            connection.connect()
            return self.profile.read(PcscConnection(connection))
        except SmartcardException as error:
            raise CardRemoved(f"card removed before it could be read ({error})") from None
        finally:
            _close(connection)


def _close(connection: Any) -> None:
    from smartcard.Exceptions import SmartcardException

    try:
        connection.disconnect()
        connection.release()
    except SmartcardException:
        pass  # the card left already; nothing to give back


class MonitorStopped(Exception):
    """pyscard's card monitor thread has ended: pcscd stopped, restarted or never ran."""


def watch(observer: GateObserver, stop: threading.Event, check_every: float = 2.0) -> None:
    """Feed card events to ``observer`` until ``stop`` is set.

    pyscard's monitor is a process-wide thread that ends for good when pcscd goes away, after
    which no card would ever be read again. That is checked every ``check_every`` seconds and
    raised as :class:`MonitorStopped`, so the agent exits and its service manager restarts it.
    """
    from smartcard.CardMonitoring import CardMonitor, CardObserver

    class Observer(CardObserver):  # type: ignore[misc]  # pyscard is untyped
        def update(self, observable: Any, handlers: Any) -> None:
            observer.update(observable, handlers)

    monitor = CardMonitor()
    adapter = Observer()
    monitor.addObserver(adapter)
    log.info("watching %s with the %s profile", observer.reader_name or "every reader",
             observer.profile.name)
    try:
        while not stop.wait(check_every):
            if not _running(monitor):
                raise MonitorStopped("the PC/SC card monitor stopped (is pcscd running?)")
    finally:
        monitor.deleteObserver(adapter)


def _running(monitor: Any) -> bool:
    try:
        return bool(monitor.rmthread.is_alive())
    except Exception:  # pyscard raises when its thread object is gone
        return False
