"""Cursor pages: keyset order, cursors bound to their query, and tampered cursors refused."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

import orjson
import pytest

from api.paging import Page, day, decode, moment, number, text
from ledger.errors import InvalidValue
from projections.queries.paging import Keyset

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


# -- pages read in SQL (`Page.keyset`, `Page.answer`, `projections.queries.paging.Keyset`) --------

def test_a_keyset_page_starts_after_the_cursor_and_reads_one_row_more_than_it_shows() -> None:
    first = Page(2, None, "q1").keyset(day, text)
    assert first == Keyset(None, 2)
    assert first.clauses(("w.work_date", "w.technician_id")) == (
        "", " ORDER BY w.work_date, w.technician_id LIMIT %s", [3])
    later = Page(2, ("2025-06-02", "B"), "q1").keyset(day, text)
    assert later.after == (date(2025, 6, 2), "B")
    assert later.clauses(("w.work_date", "w.technician_id")) == (
        " AND (w.work_date, w.technician_id) > (%s, %s)",
        " ORDER BY w.work_date, w.technician_id LIMIT %s", [date(2025, 6, 2), "B", 3])


def test_a_keyset_start_bounds_the_first_page_and_a_cursor_before_it_starts_there() -> None:
    columns = ("w.work_date", "w.technician_id")
    start = date(2025, 6, 1)
    assert Keyset(None, 5).after_sql(columns, start) == (" AND w.work_date >= %s", [start])
    before = Keyset((date(2025, 5, 31), "Z"), 5)  # a cursor of a range that began earlier
    assert before.after_sql(columns, start) == (" AND w.work_date >= %s", [start])
    within = Keyset((date(2025, 6, 3), "A"), 5)
    assert within.after_sql(columns, start) == (
        " AND (w.work_date, w.technician_id) > (%s, %s)", [date(2025, 6, 3), "A"])


def test_an_answer_shows_the_limit_and_names_the_next_page_only_if_a_row_more_was_read() -> None:
    page = Page(2, None, "q1")
    shown, cursor = page.answer([("2025-06-01", "A"), ("2025-06-02", "A"), ("2025-06-02", "B")],
                                lambda item: item)
    assert shown == [("2025-06-01", "A"), ("2025-06-02", "A")]
    assert cursor is not None and decode(cursor, "q1") == ("2025-06-02", "A")
    assert page.answer([("2025-06-01", "A"), ("2025-06-02", "A")], lambda item: item) == (
        [("2025-06-01", "A"), ("2025-06-02", "A")], None)  # a full last page: no next cursor
    assert page.answer([], lambda item: item) == ([], None)


def test_a_time_key_comes_back_to_the_same_microsecond() -> None:
    at = datetime(2025, 6, 19, 23, 59, 59, 999_999, tzinfo=UTC)
    assert moment(at.timestamp()) == at
    assert Page(2, (at.timestamp(), 7), "q1").keyset(moment, number).after == (at, 7)


@pytest.mark.parametrize("key", [
    ("2025-06-01",),  # too short
    ("2025-06-01", "A", "x"),  # too long
    (1, "A"),  # a number where the date was
    ("June", "A"),  # not a date
    ("2025-06-01", 5),  # a number where the text was
])
def test_a_cursor_key_that_does_not_fit_the_columns_is_refused_naming_the_field(
    key: tuple[str | int, ...]
) -> None:
    with pytest.raises(InvalidValue) as refused:
        Page(2, key, "q1").keyset(day, text)
    assert (refused.value.field, refused.value.rule) == ("cursor", "cursor.format")


def test_a_key_part_of_another_type_is_refused_by_its_parser() -> None:
    for parse, part in ((number, "7"), (number, 7.5), (number, 2**63), (text, 7),
                        (text, "A\x00"), (moment, "2025-06-01"), (day, 20250601)):
        with pytest.raises(TypeError):
            parse(part)
