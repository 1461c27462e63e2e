"""Domain errors. Each names the field and the rule it broke, so a user can fix the input."""

from __future__ import annotations


class LedgerError(ValueError):
    """Base class: a command was refused and nothing was written."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.rule = rule
        self.message = message


class InvalidValue(LedgerError):
    """A value is malformed (ID format, impossible date, naive time …)."""


class UnknownReference(LedgerError):
    """A command names a business, worker, site, card or record that is not registered."""


class AlreadyExists(LedgerError):
    """Registering something that is registered already."""


class NotPermitted(LedgerError):
    """The acting party may not do this (wrong role, wrong business, wrong site)."""


class DeadlinePassed(LedgerError):
    """The rule's deadline (end of the month after the work date, JST) has passed."""


class InvalidState(LedgerError):
    """The aggregate is not in a state that allows the command (e.g. approving twice)."""
