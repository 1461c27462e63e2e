"""Cursor pages: keyset order, cursors bound to their query, and tampered cursors refused."""

from __future__ import annotations

import base64

import orjson
import pytest

from api.paging import Page, decode
from ledger.errors import InvalidValue

ITEMS = [("2025-06-02", "B"), ("2025-06-01", "A"), ("2025-06-02", "A"), ("2025-06-03", "A")]


def pages(items: list[tuple[str, str]], limit: int) -> list[list[tuple[str, str]]]:
    found, after = [], None
    while True:
        page = Page(limit, after, "q1")
        shown, cursor = page.take(items, lambda item: item)
        found.append(shown)
        if cursor is None:
            return found
        after = decode(cursor, "q1")


def test_pages_follow_the_sort_key_and_cover_every_item_once() -> None:
    assert pages(ITEMS, 3) == [[("2025-06-01", "A"), ("2025-06-02", "A"), ("2025-06-02", "B")],
                               [("2025-06-03", "A")]]
    assert pages(ITEMS, 4) == [sorted(ITEMS)]  # a full last page has no next cursor
    assert pages([], 5) == [[]]


def test_a_page_starts_after_its_cursor_even_if_items_were_added_before_it() -> None:
    first, cursor = Page(2, None, "q1").take(ITEMS, lambda item: item)
    assert first == [("2025-06-01", "A"), ("2025-06-02", "A")] and cursor is not None
    grown = [*ITEMS, ("2025-05-31", "Z")]  # lands on a page already read
    second, _ = Page(2, decode(cursor, "q1"), "q1").take(grown, lambda item: item)
    assert second == [("2025-06-02", "B"), ("2025-06-03", "A")]


def encoded(body: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(body)).rstrip(b"=").decode()


@pytest.mark.parametrize(("cursor", "rule"), [
    ("not base64 !", "cursor.format"),
    ("A", "cursor.format"),
    (encoded([1, 2]), "cursor.query"),
    (encoded({"q": "q2", "k": ["x"]}), "cursor.query"),
    (encoded({"q": "q1", "k": []}), "cursor.format"),
    (encoded({"q": "q1", "k": [True]}), "cursor.format"),
    (encoded({"q": "q1", "k": [{"a": 1}]}), "cursor.format"),
])
def test_a_cursor_not_made_for_this_query_is_refused_naming_the_field(
    cursor: str, rule: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        decode(cursor, "q1")
    assert (refused.value.field, refused.value.rule) == ("cursor", rule)


def test_a_cursor_key_of_the_wrong_shape_is_refused_not_compared() -> None:
    for key in (("2025-06-01",), (1, "A"), ("2025-06-01", "A", "x")):
        with pytest.raises(InvalidValue, match="not a cursor of this list"):
            Page(2, key, "q1").take(ITEMS, lambda item: item)
