"""What the worker at the gate sees and hears. A real gate drives a beeper and LEDs; on a plain PC
it is a log line. ``accepted`` is only ever called after the tap is durable in the spool."""

from __future__ import annotations

import logging
from typing import Protocol

from readers.identity import CardIdentity
from readers.spool import SpooledTap

log = logging.getLogger("readers.gate")

# The flags of a stored tap the worker at the gate (or the guard beside it) should hear about:
# the card itself, and the entry checks (入場時の確認). A reader's own trouble (its clock, its
# registration) is the site staff's, not the worker's, and makes no warning at the gate.
GATE_WARNINGS = {
    "unknown_card": "カード未登録 card not registered",
    "revoked_card": "カード失効 card revoked",
    "not_on_roster": "作業員名簿に未登録 not on the site's roster",
    "insurance_unconfirmed": "社会保険 未確認 social insurance not confirmed",
    "insurance_not_enrolled": "社会保険 未加入 social insurance not enrolled",
    "qualification_missing": "必要資格なし required qualification missing",
    "qualification_expired": "資格期限切れ required qualification expired",
}


def gate_warnings(flags: tuple[str, ...]) -> list[str]:
    """What to show for a stored tap's flags, in the order the ledger gave them."""
    return [GATE_WARNINGS[flag] for flag in flags if flag in GATE_WARNINGS]


class Feedback(Protocol):
    def accepted(self, tap: SpooledTap) -> None:
        """One short beep, green light: the tap is stored."""

    def repeated(self, identity: CardIdentity) -> None:
        """The same beep: this card's tap is stored already (presented twice)."""

    def failed(self, reason: str) -> None:
        """Error tone, red light: "read failed, try again"."""

    def warned(self, tap_id: str, warnings: list[str]) -> None:
        """Warning tone, amber light, after the ledger answered: the tap is stored and counts,
        but the gate check flagged it (`warnings`: what to show, see `gate_warnings`)."""


class LogFeedback:
    def accepted(self, tap: SpooledTap) -> None:
        who = tap.card_id or tap.technician_id
        log.info("OK %s %s %s at %s", tap.tap_id, tap.direction.value, who,
                 tap.reader_time.isoformat(timespec="seconds"))

    def repeated(self, identity: CardIdentity) -> None:
        log.info("OK %s already recorded (same card again)", identity)

    def failed(self, reason: str) -> None:
        log.warning("READ FAILED, try again: %s", reason)

    def warned(self, tap_id: str, warnings: list[str]) -> None:
        log.warning("WARNING %s stored but flagged: %s", tap_id, "; ".join(warnings))
