"""掛金日額 — the daily rate as an effective-dated table, read from `daily_rates.toml`.

A rate change is a data change: add a ``[[daily_rates]]`` entry; no code changes. Yen are ``int``
throughout (1 point = 1 yen, no fractions exist), so sums are exact.
"""

from __future__ import annotations

import tomllib
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib.resources import files
from itertools import pairwise
from typing import Any

from projections.kentaikyo.errors import RateNotDefined, RateTableError

RATE_FILE = "daily_rates.toml"


@dataclass(frozen=True)
class DailyRate:
    effective_from: date
    yen: int


@dataclass(frozen=True)
class RateTable:
    """Entries sorted by `effective_from`, strictly; each is in force until the next one starts."""

    rates: tuple[DailyRate, ...]
    sources: tuple[str, ...]
    checked_on: date
    _starts: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(rate.effective_from for rate in self.rates))

    def daily_rate(self, work_date: date) -> int:
        _require_date(work_date)
        index = bisect_right(self._starts, work_date) - 1
        if index < 0:
            raise RateNotDefined(work_date, self._starts[0])
        return self.rates[index].yen


def daily_rate(work_date: date) -> int:
    """掛金日額 in yen for a worker-day on `work_date` (JST), from the shipped table."""
    return shipped_rate_table().daily_rate(work_date)


@lru_cache(maxsize=1)
def shipped_rate_table() -> RateTable:
    text = files("projections.kentaikyo").joinpath(RATE_FILE).read_text(encoding="utf-8")
    return parse_rate_table(text, RATE_FILE)


def parse_rate_table(text: str, source: str) -> RateTable:
    """Validate at load, so a typo in the data fails naming the key instead of mispaying."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RateTableError(source, "(file)", f"is not valid TOML: {error}") from None
    _only_keys(data, {"sources", "checked_on", "daily_rates"}, source, "(top)")
    sources = data.get("sources")
    if not isinstance(sources, list) or not sources or not all(
        isinstance(s, str) and s for s in sources
    ):
        raise RateTableError(source, "sources", "must list at least one public source")
    checked_on = data.get("checked_on")
    if type(checked_on) is not date:
        raise RateTableError(source, "checked_on", "must be a date (YYYY-MM-DD)")
    entries = data.get("daily_rates")
    if not isinstance(entries, list) or not entries:
        raise RateTableError(source, "daily_rates", "must have at least one entry")
    rates = tuple(_rate(entry, source, n) for n, entry in enumerate(entries))
    for earlier, later in pairwise(rates):
        if later.effective_from <= earlier.effective_from:
            raise RateTableError(
                source, "daily_rates",
                f"effective_from must increase: {later.effective_from} after "
                f"{earlier.effective_from}",
            )
    return RateTable(rates, tuple(sources), checked_on)


def _rate(entry: Any, source: str, n: int) -> DailyRate:
    key = f"daily_rates[{n}]"
    if not isinstance(entry, dict):
        raise RateTableError(source, key, "must be a table")
    _only_keys(entry, {"effective_from", "yen"}, source, key)
    effective_from = entry.get("effective_from")
    if type(effective_from) is not date:
        raise RateTableError(source, f"{key}.effective_from", "must be a date (YYYY-MM-DD)")
    yen = entry.get("yen")
    # bool is an int subclass and a float could hide fractions of a yen: refuse both.
    if type(yen) is not int or yen <= 0:
        raise RateTableError(source, f"{key}.yen", f"must be a positive integer, not {yen!r}")
    return DailyRate(effective_from, yen)


def _only_keys(table: dict[str, Any], allowed: set[str], source: str, key: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise RateTableError(source, key, f"unknown keys {unknown}")


def _require_date(work_date: object) -> None:
    # A datetime is a date subclass but compares with dates by raising: name the mistake instead.
    if type(work_date) is not date:
        raise TypeError(f"work_date must be a date, not {type(work_date).__name__}")
