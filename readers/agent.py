"""The gate agent: a card read becomes a durable tap in the spool, then the worker is told."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import timedelta

from ledger.clock import Clock, SystemClock
from ledger.directions import DirectionMode
from readers.feedback import Feedback, LogFeedback
from readers.identity import CardIdentity
from readers.spool import Spool, SpooledTap, SpoolError

log = logging.getLogger(__name__)


class GateAgent:
    """Receives what the card monitor read (or failed to read) and records it."""

    def __init__(
        self, spool: Spool, *, mode: DirectionMode = DirectionMode.AUTO,
        debounce: timedelta = timedelta(seconds=10), feedback: Feedback | None = None,
        clock: Clock | None = None, on_spooled: Callable[[], None] | None = None,
    ) -> None:
        if debounce < timedelta(0):
            raise ValueError(f"debounce {debounce} must not be negative")
        self.spool, self.mode, self.debounce = spool, mode, debounce
        self.feedback = feedback or LogFeedback()
        self.clock = clock or SystemClock()
        self.on_spooled = on_spooled  # wakes the uploader

    def card_read(self, identity: CardIdentity) -> SpooledTap | None:
        """Spool the tap (durably) and only then signal success; None if it was not stored."""
        try:
            tap = self.spool.record(identity, self.clock.now(), self.mode, self.debounce)
        except (sqlite3.Error, OSError, SpoolError) as error:
            log.exception("could not store the tap of %s", identity)
            self.feedback.failed(f"could not store the tap ({error})")
            return None
        if tap is None:
            self.feedback.repeated(identity)
            return None
        self.feedback.accepted(tap)
        if self.on_spooled is not None:
            self.on_spooled()
        return tap

    def read_failed(self, reason: str) -> None:
        self.feedback.failed(reason)
