"""Typed, strict reading of one parsed TOML table, for the criteria and qualifications loaders.

Every accessor records the key it read; `done()` then rejects whatever is left, so a misspelt key
(`foremen_days`) is an error instead of a silently ignored requirement.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from projections.levels.errors import CriteriaError


class Fields:
    def __init__(self, table: Mapping[str, object], source: str, where: str = "") -> None:
        self._table = table
        self._read: set[str] = set()
        self.source = source
        self.where = where

    def key_path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, message: str) -> CriteriaError:
        return CriteriaError(self.source, self.key_path(key), message)

    def has(self, key: str) -> bool:
        return key in self._table

    def raw(self, key: str) -> object:
        self._read.add(key)
        if key not in self._table:
            raise self.error(key, "is required")
        return self._table[key]

    def text(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def texts(self, key: str) -> tuple[str, ...]:
        if not self.has(key):
            self._read.add(key)
            return ()
        value = self.raw(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, f"must be an array of non-empty strings, got {value!r}")
        return tuple(value)

    def days(self, key: str, default: int | None = None) -> int:
        """A day count: a non-negative integer (days are whole calendar dates)."""
        if default is not None and not self.has(key):
            self._read.add(key)
            return default
        value = self.raw(key)
        # bool is an int subclass in Python; `true` is never a day count.
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, f"must be a whole number of days, got {value!r}")
        if value < 0:
            raise self.error(key, f"must not be negative, got {value}")
        return value

    def positive_int(self, key: str) -> int:
        value = self.raw(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise self.error(key, f"must be a positive whole number, got {value!r}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        if not self.has(key):
            self._read.add(key)
            return default
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def day(self, key: str) -> date:
        value = self.raw(key)
        if not isinstance(value, date):
            raise self.error(key, f"must be a TOML date (YYYY-MM-DD), got {value!r}")
        return value

    def one_of(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.text(key)
        if value not in allowed:
            raise self.error(key, f"must be one of {', '.join(allowed)}, got {value!r}")
        return value

    def tables(self, key: str) -> list[Fields]:
        value = self.raw(key)
        if not isinstance(value, list) or not value:
            raise self.error(key, "must be a non-empty array of tables")
        fields = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.error(f"{key}[{index}]", f"must be a table, got {item!r}")
            fields.append(Fields(item, self.source, f"{self.key_path(key)}[{index}]"))
        return fields

    def subtable(self, key: str) -> Fields:
        value = self.raw(key)
        if not isinstance(value, dict):
            raise self.error(key, f"must be a table, got {value!r}")
        return Fields(value, self.source, self.key_path(key))

    def names(self) -> tuple[str, ...]:
        """Every key of the table (marking them read), for tables keyed by data, not schema."""
        self._read.update(self._table)
        return tuple(self._table)

    def done(self) -> None:
        unknown = sorted(set(self._table) - self._read)
        if unknown:
            raise self.error(unknown[0], f"unknown key (unknown keys here: {', '.join(unknown)})")
