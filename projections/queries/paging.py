"""Keyset paging in SQL: a list's next page is the rows whose sort key comes after the last one
shown, read in index order with ``LIMIT``, so a page costs the same on a site of a thousand rows
as on one of a million (no query reads every row to return a page).

A row-value comparison ``(k1, k2) > (%s, %s)`` states "after this key" on both databases
(SQLite since 3.15) and is an index range when the columns follow an index's columns after its
equality-bound prefix (migration 0021 adds those indexes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Keyset:
    """Which page to read: the rows after `after` (the previous page's last key, in the order of
    the columns it is applied to; None for the first page), at most `limit` of them."""

    after: tuple[Any, ...] | None
    limit: int

    def after_sql(self, columns: Sequence[str]) -> tuple[str, list[Any]]:
        """``AND (c1, c2) > (%s, %s)`` and its parameters; empty on the first page."""
        if self.after is None:
            return "", []
        if len(self.after) != len(columns):
            raise ValueError(f"a key of {len(self.after)} parts for {len(columns)} columns")
        marks = ", ".join(["%s"] * len(columns))
        return f" AND ({', '.join(columns)}) > ({marks})", list(self.after)

    def order_sql(self, columns: Sequence[str]) -> tuple[str, list[Any]]:
        """``ORDER BY c1, c2 LIMIT %s``: one row more than the page, which tells whether a next
        page exists without counting the rest."""
        return f" ORDER BY {', '.join(columns)} LIMIT %s", [self.limit + 1]

    def clauses(self, columns: Sequence[str]) -> tuple[str, str, list[Any]]:
        """Both: the condition to add to a WHERE, the tail of the statement, and the parameters
        of both in that order."""
        where, where_params = self.after_sql(columns)
        tail, tail_params = self.order_sql(columns)
        return where, tail, [*where_params, *tail_params]
