"""Keyset paging in SQL: a list's next page is the rows whose sort key comes after the last one
shown, read in index order with ``LIMIT``, so a page costs the same on a site of a thousand rows
as on one of a million (no query reads every row to return a page).

A row-value comparison ``(k1, k2) > (%s, %s)`` states "after this key" on both databases
(SQLite since 3.15) and is an index range when the columns follow an index's columns after its
equality-bound prefix (migration 0021 adds those indexes). A list that starts at a value of its
first column (a date range's first day) gives it as `start`, never as a condition of its own:
SQLite's planner takes a plain lower bound on the column for the index range and filters the
row value (each page reading all the pages before it again), and with an equality on the column
it sorts.
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

    def after_sql(self, columns: Sequence[str], start: Any = None) -> tuple[str, list[Any]]:
        """``AND (c1, c2) > (%s, %s)`` and its parameters; on the first page (or after a key
        before `start`), ``AND c1 >= start``, or nothing without a start."""
        if self.after is None or (start is not None and self.after[0] < start):
            return ("", []) if start is None else (f" AND {columns[0]} >= %s", [start])
        if len(self.after) != len(columns):
            raise ValueError(f"a key of {len(self.after)} parts for {len(columns)} columns")
        marks = ", ".join(["%s"] * len(columns))
        return f" AND ({', '.join(columns)}) > ({marks})", list(self.after)

    def order_sql(self, columns: Sequence[str]) -> tuple[str, list[Any]]:
        """``ORDER BY c1, c2 LIMIT %s``: one row more than the page, which tells whether a next
        page exists without counting the rest."""
        return f" ORDER BY {', '.join(columns)} LIMIT %s", [self.limit + 1]

    def clauses(self, columns: Sequence[str], start: Any = None) -> tuple[str, str, list[Any]]:
        """Both: the condition to add to a WHERE, the tail of the statement, and the parameters
        of both in that order."""
        where, where_params = self.after_sql(columns, start)
        tail, tail_params = self.order_sql(columns)
        return where, tail, [*where_params, *tail_params]
