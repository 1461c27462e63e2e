"""Errors of the level judgment package: bad criteria data, and a trade with no criteria."""

from __future__ import annotations

from collections.abc import Sequence


class CriteriaError(ValueError):
    """A criteria or qualifications file breaks the schema. Names the file and the key, so whoever
    edits the data can find the line without reading the loader."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        self.message = message
        super().__init__(f"{source}: {key}: {message}")


class UnknownTradeError(LookupError):
    """No criteria file answers to this trade name, slug or CCUS trade code."""

    def __init__(self, trade: str, known: Sequence[str]) -> None:
        self.trade = trade
        self.known = tuple(known)
        super().__init__(
            f"no level criteria for trade {trade!r}; known trades: {', '.join(self.known)}"
        )
