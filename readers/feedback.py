"""What the worker at the gate sees and hears. A real gate drives a beeper and LEDs; on a plain PC
it is a log line. ``accepted`` is only ever called after the tap is durable in the spool."""

from __future__ import annotations

import logging
from typing import Protocol

from readers.identity import CardIdentity
from readers.spool import SpooledTap

log = logging.getLogger("readers.gate")


class Feedback(Protocol):
    def accepted(self, tap: SpooledTap) -> None:
        """One short beep, green light: the tap is stored."""

    def repeated(self, identity: CardIdentity) -> None:
        """The same beep: this card's tap is stored already (presented twice)."""

    def failed(self, reason: str) -> None:
        """Error tone, red light: "read failed, try again"."""


class LogFeedback:
    def accepted(self, tap: SpooledTap) -> None:
        who = tap.card_id or tap.technician_id
        log.info("OK %s %s %s at %s", tap.tap_id, tap.direction.value, who,
                 tap.reader_time.isoformat(timespec="seconds"))

    def repeated(self, identity: CardIdentity) -> None:
        log.info("OK %s already recorded (same card again)", identity)

    def failed(self, reason: str) -> None:
        log.warning("READ FAILED, try again: %s", reason)
