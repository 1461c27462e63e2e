"""Cursor pagination for every list: `limit` (≤ 1000) and an opaque `cursor` from the last page.

A cursor names the sort key of the last item shown, so the next page starts right after it even if
rows were added meanwhile (keyset pagination), and it is bound to its query: a cursor from another
query (other path or other parameters) is refused, naming the field `cursor`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Query, Request

from ledger.errors import InvalidValue
from projections.queries.paging import Keyset

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
NOT_OF_THE_QUERY = ("cursor", "limit", "min_position")  # may change between pages

Key = tuple[str | int | float, ...]
T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (≤ {MAX_LIMIT})")]
Cursor = Annotated[str | None, Query(
    max_length=1000, pattern=r"^[A-Za-z0-9_-]+$",
    description="`next_cursor` of the previous page; absent for the first page")]


@dataclass(frozen=True)
class Page:
    """Which page a list request asks for."""

    limit: int
    after: Key | None  # the sort key of the previous page's last item
    query: str  # the fingerprint of the query the cursor belongs to

    def cursor_after(self, key: Key) -> str:
        body = orjson.dumps({"q": self.query, "k": list(key)})
        return base64.urlsafe_b64encode(body).rstrip(b"=").decode()

    def keyset(self, *parts: Callable[[Any], Any]) -> Keyset:
        """This page for a keyset query (`projections.queries.paging`): the cursor's key turned
        back into column values, one `parts` function a column (`text`, `day`, `moment`,
        `number`); a key of another shape is refused as `take` refuses it."""
        if self.after is None:
            return Keyset(None, self.limit)
        if len(self.after) != len(parts):
            raise not_of_this_list()
        try:
            return Keyset(tuple(part(value) for part, value in zip(parts, self.after,
                                                                     strict=True)), self.limit)
        except (TypeError, ValueError, OverflowError, OSError):
            raise not_of_this_list() from None

    def answer(self, rows: Sequence[T], key: Callable[[T], Key]) -> tuple[list[T], str | None]:
        """The page from the rows a keyset query read: in key order, after the cursor, at most
        `limit + 1` of them (the one more tells that a next page exists)."""
        shown = list(rows[:self.limit])
        more = len(rows) > self.limit
        return shown, self.cursor_after(key(shown[-1])) if more else None

    def take(self, items: Iterable[T], key: Callable[[T], Key]) -> tuple[list[T], str | None]:
        """The page of `items` (in any order) after the cursor, and the next page's cursor.
        For lists bounded by nature (one worker's trades); a list that grows with a site or a
        business is paged in SQL (`keyset`, `answer`)."""
        keyed = sorted(((key(item), item) for item in items), key=lambda pair: pair[0])
        if self.after is not None:
            after = self.after
            if keyed:
                check_comparable(after, keyed[0][0])
            keyed = [(k, item) for k, item in keyed if k > after]
        shown = keyed[:self.limit]
        more = len(keyed) > self.limit
        return [item for _, item in shown], self.cursor_after(shown[-1][0]) if more else None


def check_comparable(cursor_key: Sequence[object], item_key: Sequence[object]) -> None:
    if len(cursor_key) != len(item_key) or any(
            type(a) is not type(b) for a, b in zip(cursor_key, item_key, strict=True)):
        raise not_of_this_list()


def not_of_this_list() -> InvalidValue:
    return InvalidValue("cursor", "cursor.format", "is not a cursor of this list")


# A cursor key's parts back into column values (`Page.keyset`); each refuses a part of another type.

def text(part: object) -> str:
    if not isinstance(part, str) or "\x00" in part:  # PostgreSQL's text holds no NUL
        raise TypeError(part)
    return part


def number(part: object) -> int:
    if not isinstance(part, int) or not -2**63 <= part < 2**63:  # a BIGINT column's
        raise TypeError(part)
    return part


def day(part: object) -> date:
    """A date key part: ISO text (`work_date.isoformat()`)."""
    return date.fromisoformat(text(part))


def moment(part: object) -> datetime:
    """A time key part: seconds since the epoch (`datetime.timestamp()`, exact to the
    microsecond at today's dates)."""
    if not isinstance(part, int | float):
        raise TypeError(part)
    return datetime.fromtimestamp(part, UTC)


def fingerprint(request: Request) -> str:
    """The path and parameters of a list query, except those that may change between pages."""
    params = sorted((k, v) for k, v in request.query_params.multi_items()
                    if k not in NOT_OF_THE_QUERY)
    text = orjson.dumps([request.url.path, params])
    return hashlib.sha256(text).hexdigest()[:16]


def decode(cursor: str, query: str) -> Key:
    try:
        body = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidValue("cursor", "cursor.format", "is not a cursor from this API") from None
    if not isinstance(body, dict) or body.get("q") != query:
        raise InvalidValue("cursor", "cursor.query", "belongs to another query (its path or "
                           "parameters differ); start again without a cursor")
    key = body.get("k")
    if not isinstance(key, list) or not key or not all(
            isinstance(part, str | int | float) and not isinstance(part, bool) for part in key):
        raise InvalidValue("cursor", "cursor.format", "is not a cursor from this API")
    return tuple(key)


@dataclass(frozen=True)
class Paging:
    """A list request's `limit` and `cursor` as sent. `page()` decodes the cursor (422 if it is
    not one of this query's), which a query route does in its reads, once the caller's token and
    role have been checked, before anything else."""

    limit: int
    cursor: str | None
    query: str

    def page(self) -> Page:
        return Page(self.limit, decode(self.cursor, self.query) if self.cursor else None,
                    self.query)


async def paging_of(
    request: Request, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Paging:
    """The page a list request asks for (async: no I/O, so no trip through the thread pool)."""
    return Paging(limit, cursor, fingerprint(request))


PageDep = Annotated[Paging, Depends(paging_of)]
