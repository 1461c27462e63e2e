"""What a card presented at the gate yields: its card ID (UID) or the worker's 技能者ID."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import InvalidValue
from ledger.ids import CardId, TechnicianId


@dataclass(frozen=True)
class CardIdentity:
    """Exactly one of ``card_id`` and ``technician_id``, validated by the ledger's own ID rules,
    so the reader never spools a tap the ledger would refuse as malformed."""

    card_id: str | None = None  # a CardId once constructed
    technician_id: str | None = None  # a TechnicianId once constructed

    def __post_init__(self) -> None:
        if (self.card_id is None) == (self.technician_id is None):
            raise InvalidValue("card_id", "tap.identity",
                               "a card yields either a card_id or a technician_id")
        if self.card_id is not None:
            object.__setattr__(self, "card_id", CardId(self.card_id))
        if self.technician_id is not None:
            object.__setattr__(self, "technician_id", TechnicianId(self.technician_id))

    @property
    def key(self) -> str:
        """One string per card, for debouncing and the per-worker ``auto`` direction."""
        if self.card_id is not None:
            return f"card:{self.card_id}"
        return f"technician:{self.technician_id}"

    def __str__(self) -> str:
        return self.key
