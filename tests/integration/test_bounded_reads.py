"""Bounded reads: a page of a site-level list reads as many rows on a site of a million records as
on a small site, because it is read in index order after its cursor with LIMIT (keyset paging in
SQL), with the caller's employers and sites in the WHERE clause.

One database per backend, built once for the module directly in the read-model tables (SQL that
generates the rows: seconds, where projecting a million taps would take minutes). Rows read are
counted, never timed: on PostgreSQL from EXPLAIN (ANALYZE) of each statement a list runs (rows
each scan of the list's table produced or filtered out); on SQLite the plan must read the list's
table by an index range with no sort of what it found, and the rows returned are counted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from api.paging import Key, Page, day, decode, moment, number, text
from ledger.clock import JST
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from projections.queries.attendance import (
    missing_exits_page,
    on_site_now_page,
    site_attendance_page,
)
from projections.queries.exceptions import site_exceptions_page
from projections.queries.inbox import prime_inbox_page
from projections.queries.paging import Keyset
from projections.store import ReadStore, Tx
from tests import pg, sqlite_template

LIMIT = 100
EMPLOYERS = ("201", "202", "203", "204")  # worker w is employed by EMPLOYERS[w % 4]
FIRST_DAY = date(2023, 1, 1)


@dataclass(frozen=True)
class Site:
    """A generated site: `workers` every day for `days` days from FIRST_DAY (a record each),
    worker w with no exit when w % open_every == 0, `taps_a_day` flagged taps a day, and
    `requests` requests to its prime, every other one pending."""

    site_id: str
    prime: str
    workers: int
    days: int
    open_every: int
    taps_a_day: int
    requests: int

    @property
    def last_day(self) -> date:
        return FIRST_DAY + timedelta(days=self.days - 1)

    def technician(self, worker: int) -> str:
        return f"{worker:014d}"


# A million records (1,000 workers × 1,000 days), with 250 flagged taps a day and 250,000
# requests (SQLite: 200 days, 200,000 records; LEDGER_TEST_BIG_SQLITE=1 builds the full million
# there too), beside a small site whose days are as full.
BIG_SQLITE_DAYS = 1000 if os.environ.get("LEDGER_TEST_BIG_SQLITE") == "1" else 200


def big_site(sqlite: bool) -> Site:
    days = BIG_SQLITE_DAYS if sqlite else 1000
    return Site("10000000000001", "100", 1000, days, 5, 250, 250 * days)


# The small site's days are the big one's (as many workers, taps and requests a day); it has
# three of them where the big one has years.
SMALL = Site("10000000000002", "101", 1000, 3, 5, 250, 750)


class Recording(Tx):
    """The read transaction, keeping each statement it ran (as sent) and the rows it returned."""

    def __init__(self, tx: Tx) -> None:
        super().__init__(tx.cursor, tx.suffix, tx.sqlite)
        self.ran: list[Ran] = []

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows = super().execute(statement, params)
        self.ran.append(Ran(self.sql(statement), self.params(params), rows))
        return rows


@dataclass(frozen=True)
class Ran:
    sql: str
    params: Sequence[Any]
    rows: list[tuple[Any, ...]]

    @property
    def counts(self) -> bool:
        return self.sql.startswith("SELECT COUNT(*)")


@dataclass(frozen=True)
class World:
    store: ReadStore
    big: Site
    small: Site


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    with _database(request.param, tmp_path_factory.mktemp("bounded")) as url:
        settings = Settings(database_url=url)
        migrate(settings)
        store = ReadStore(settings)
        big = big_site(store.sqlite)
        with store.transaction() as tx, _indexes_built_after(tx):
            for site in (big, SMALL):
                _build(tx, site)
        if not store.sqlite:  # statistics, as autovacuum keeps them on a live database
            with store.transaction() as tx:
                tx.execute("ANALYZE")
        try:
            yield World(store, big, SMALL)
        finally:
            store.close()


@contextmanager
def _database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        path = folder / "ledger.db"
        sqlite_template.copy_to(path)
        yield f"sqlite:///{path}"
        return
    try:
        with pg.fresh_database(migrated=True) as url:
            yield url
    except pg.PostgresUnavailable as reason:
        if pg.in_ci():
            raise
        pytest.skip(f"PostgreSQL SKIPPED: {reason}")


GENERATED = ("work_records", "site_exceptions", "requests")


@contextmanager
def _indexes_built_after(tx: Tx) -> Iterator[None]:
    """The generated tables' indexes dropped while rows go in and created again after (the same
    definitions): an index sorted once is built in seconds, where a million inserts in another
    order than the index's take a minute."""
    tables = "('work_records', 'site_exceptions', 'requests')"
    if tx.sqlite:  # (SQLite keeps a primary key in the table's own definition)
        tx.cursor.execute("SELECT 'DROP INDEX ' || name, sql FROM sqlite_master WHERE type = "
                           f"'index' AND sql IS NOT NULL AND tbl_name IN {tables}")
    else:  # (statements without parameters, so `%s` is format()'s)
        tx.cursor.execute(
            "SELECT 'DROP INDEX ' || indexname, indexdef FROM pg_indexes WHERE tablename IN "
            f"{tables} AND indexname NOT IN (SELECT conname FROM pg_constraint) UNION ALL "
            "SELECT format('ALTER TABLE %s DROP CONSTRAINT %s', conrelid::regclass, conname), "
            "format('ALTER TABLE %s ADD CONSTRAINT %s %s', conrelid::regclass, conname, "
            "pg_get_constraintdef(oid)) FROM pg_constraint WHERE contype = 'p' AND "
            f"conrelid::regclass::text IN {tables}")
    found = tx.cursor.fetchall()
    for drop, _ in found:
        tx.cursor.execute(drop)
    yield
    for _, create in found:
        tx.cursor.execute(create)


def _build(tx: Tx, site: Site) -> None:
    """The site, its work records, flagged taps and requests, generated by the database."""
    tx.execute("INSERT INTO {sites} (site_id, name, prime_business_id, kentaikyo_method, "
               "opened_on, closed_on, positions) VALUES (%s, %s, %s, 'electronic', %s, NULL, "
               "'[]')", [site.site_id, f"site {site.site_id}", site.prime, FIRST_DAY])
    build = _SQLITE if tx.sqlite else _POSTGRES
    values = {"site": site.site_id, "prime": site.prime, "first": FIRST_DAY.isoformat(),
              "w": site.workers, "open": site.open_every, "per_day": site.taps_a_day}
    for table, count in (("work_records", site.workers * site.days),
                         ("site_exceptions", site.taps_a_day * site.days),
                         ("requests", site.requests)):
        tx.cursor.execute(build[table].format(n=count - 1, **values))  # no parameters


# Row i of each table, generated on the database: worker i % w on day i // w (JST times stored in
# UTC: 08:00 JST is 23:00 UTC of the day before), flagged tap i at 07:00 JST + i % per_day
# seconds on day i // per_day, request i asked at i // 4 seconds after the first day.
_SQLITE_N = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) "
_SQLITE_DAY = "'{first}', '+' || (i / {w}) || ' days'"
_SQLITE = {
    "work_records": _SQLITE_N + (
        "INSERT INTO work_records (technician_id, site_id, work_date, employer_business_id, "
        "trade, role_position, work_content, first_entry, last_exit, minutes_on_site, source, "
        "status, flags, event_positions) SELECT printf('%014d', i % {w}), '{site}', "
        f"date({_SQLITE_DAY}), '20' || (i % {{w}} % 4 + 1), '鉄筋', '一般', NULL, "
        f"strftime('%Y-%m-%dT%H:%M:%S+00:00', {_SQLITE_DAY}, '-1 hours'), "
        "CASE WHEN i % {w} % {open} = 0 THEN NULL ELSE "
        f"strftime('%Y-%m-%dT%H:%M:%S+00:00', {_SQLITE_DAY}, '+8 hours') END, "
        "CASE WHEN i % {w} % {open} = 0 THEN NULL ELSE 540 END, 'card', 'counted', '[]', "
        "'[]' FROM n"),
    "site_exceptions": _SQLITE_N + (
        "INSERT INTO site_exceptions (tap_id, site_id, reader_id, kind, technician_id, card_id, "
        "reader_time, position, content_hash) SELECT '{site}:' || i, '{site}', 'GATE', "
        "'unknown_card', NULL, printf('%08X', i), strftime('%Y-%m-%dT%H:%M:%S+00:00', '{first}', "
        "'+' || (i / {per_day}) || ' days', '-2 hours', '+' || (i % {per_day}) || ' seconds'), "
        "i + 1, '' FROM n"),
    "requests": _SQLITE_N + (
        "INSERT INTO requests (request_id, kind, technician_id, site_id, work_date, "
        "employer_business_id, prime_business_id, payload, status, reason, requested_by, "
        "requested_at, decided_by, decided_at, positions) SELECT printf('{site}-%08d', i), "
        "'ManualEntry', printf('%014d', i % 1000), '{site}', '{first}', '201', '{prime}', "
        "'{{}}', CASE WHEN i % 2 = 0 THEN 'pending' ELSE 'approved' END, NULL, 'employer:201', "
        "strftime('%Y-%m-%dT%H:%M:%S+00:00', '{first}', '+' || (i / 4) || ' seconds'), NULL, "
        "NULL, '[1]' FROM n"),
}
_PG_DAY = "('{first}'::date + i / {w})"
_POSTGRES = {
    "work_records": (
        "INSERT INTO work_records (technician_id, site_id, work_date, employer_business_id, "
        "trade, role_position, work_content, first_entry, last_exit, minutes_on_site, source, "
        "status, flags, event_positions) SELECT lpad((i % {w})::text, 14, '0'), '{site}', "
        f"{_PG_DAY}, '20' || (i % {{w}} % 4 + 1), '鉄筋', '一般', NULL, "
        f"({_PG_DAY} + time '08:00') AT TIME ZONE 'Asia/Tokyo', "
        "CASE WHEN i % {w} % {open} = 0 THEN NULL ELSE "
        f"({_PG_DAY} + time '17:00') AT TIME ZONE 'Asia/Tokyo' END, "
        "CASE WHEN i % {w} % {open} = 0 THEN NULL ELSE 540 END, 'card', 'counted', '[]', '[]' "
        "FROM generate_series(0, {n}) i"),
    "site_exceptions": (
        "INSERT INTO site_exceptions (tap_id, site_id, reader_id, kind, technician_id, card_id, "
        "reader_time, position, content_hash) SELECT '{site}:' || i, '{site}', 'GATE', "
        "'unknown_card', NULL, upper(to_hex(i)), (('{first}'::date + i / {per_day}) "
        "+ time '07:00') AT TIME ZONE 'Asia/Tokyo' + (i % {per_day}) * interval '1 second', "
        "i + 1, '' FROM generate_series(0, {n}) i"),
    "requests": (
        "INSERT INTO requests (request_id, kind, technician_id, site_id, work_date, "
        "employer_business_id, prime_business_id, payload, status, reason, requested_by, "
        "requested_at, decided_by, decided_at, positions) SELECT '{site}-' || lpad(i::text, 8, "
        "'0'), 'ManualEntry', lpad((i % 1000)::text, 14, '0'), '{site}', '{first}', '201', "
        "'{prime}', '{{}}', CASE WHEN i % 2 = 0 THEN 'pending' ELSE 'approved' END, NULL, "
        "'employer:201', '{first} 00:00+00'::timestamptz + (i / 4) * interval '1 second', "
        "NULL, NULL, '[1]' FROM generate_series(0, {n}) i"),
}


# -- the lists, as the routes read them --------------------------------------------------------

@dataclass(frozen=True)
class List:
    """A site-level list: its page query on a site (as the route calls it), the key its route's
    cursor carries, the cursor parts' parsers, and the table that grows with the site."""

    name: str
    table: str
    read: Callable[[Tx, Site, Keyset], Sequence[Any]]
    key: Callable[[Any], Key]
    parts: tuple[Callable[[Any], Any], ...]
    expected: Callable[[Site], list[Key]]  # every item's key, in order, from how rows were made


def _day_of(site: Site) -> date:
    return site.last_day - timedelta(days=1)


def _now(site: Site) -> datetime:
    """Noon (JST) of the site's last day: its open entries of that day are on site now."""
    return datetime.combine(site.last_day, datetime.min.time(), JST) + timedelta(hours=12)


def _attendance_key(row: Any) -> Key:
    return row.work_date.isoformat(), row.technician_id


def _workers_on(days: Sequence[date], site: Site, keep: Callable[[int], bool]) -> list[Key]:
    return [(d.isoformat(), site.technician(w)) for d in days for w in range(site.workers)
            if keep(w)]


def _days(first: date, last: date, site: Site) -> list[date]:
    first = max(first, FIRST_DAY)
    return [first + timedelta(days=n) for n in range((min(last, site.last_day) - first).days + 1)]


def _taps(site: Site, first: date, last: date) -> list[Key]:
    start = (first - FIRST_DAY).days * site.taps_a_day
    end = ((last - FIRST_DAY).days + 1) * site.taps_a_day
    return [((datetime.combine(FIRST_DAY + timedelta(days=i // site.taps_a_day),
                               datetime.min.time(), JST) + timedelta(hours=7)
              + timedelta(seconds=i % site.taps_a_day)).timestamp(), i + 1)
            for i in range(start, end)]


def _pending(site: Site) -> list[Key]:
    midnight = datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
    return [((midnight + timedelta(seconds=i // 4)).timestamp(), f"{site.site_id}-{i:08d}")
            for i in range(0, site.requests, 2)]


def _month(site: Site) -> tuple[date, date]:
    return max(FIRST_DAY, site.last_day - timedelta(days=29)), site.last_day


def _year(site: Site) -> tuple[date, date]:
    return site.last_day - timedelta(days=365), site.last_day


LISTS = (
    List("attendance of a day", "work_records",
         lambda tx, s, k: site_attendance_page(tx, s.site_id, _day_of(s), k).rows,
         _attendance_key, (day, text),
         lambda s: _workers_on([_day_of(s)], s, lambda w: True)),
    List("attendance of a subcontractor's workers", "work_records",
         lambda tx, s, k: site_attendance_page(tx, s.site_id, _day_of(s), k,
                                               frozenset({"202"})).rows,
         _attendance_key, (day, text),
         lambda s: _workers_on([_day_of(s)], s, lambda w: EMPLOYERS[w % 4] == "202")),
    List("missing exits of a year", "work_records",
         lambda tx, s, k: missing_exits_page(tx, s.site_id, *_year(s), k, now=_now(s)).rows,
         _attendance_key, (day, text),  # (the site's last day is today: no exit is missing yet)
         lambda s: _workers_on(_days(_year(s)[0], s.last_day - timedelta(days=1), s), s,
                               lambda w: w % s.open_every == 0)),
    List("on site now", "work_records",
         lambda tx, s, k: on_site_now_page(tx, s.site_id, k, now=_now(s)).rows,
         _attendance_key, (day, text),
         lambda s: _workers_on([s.last_day], s, lambda w: w % s.open_every == 0)),
    List("site exceptions of a month", "site_exceptions",
         lambda tx, s, k: site_exceptions_page(tx, s.site_id, *_month(s), k),
         lambda e: (e.reader_time.timestamp(), e.position), (moment, number),
         lambda s: _taps(s, *_month(s))),
    List("the prime's inbox", "requests",
         lambda tx, s, k: prime_inbox_page(tx, s.prime, k),
         lambda r: (r.requested_at.timestamp(), r.request_id), (moment, text), _pending),
    List("the prime's inbox through a key of one site", "requests",
         lambda tx, s, k: prime_inbox_page(tx, s.prime, k, only_sites={s.site_id}),
         lambda r: (r.requested_at.timestamp(), r.request_id), (moment, text), _pending),
)


@dataclass(frozen=True)
class Read:
    """One page of a list: its items, the next cursor, and the rows of the list's table that each
    statement read (the page statement; a headcount's COUNT, if the list has one)."""

    items: list[Any]
    cursor: str | None
    page_rows_read: int
    counted_rows_read: int | None
    headcount: int | None


def read_page(world: World, site: Site, listed: List, after: Key | None,
              limit: int = LIMIT) -> Read:
    """A page as the list's route reads it (the cursor's key parsed by `Page.keyset`, the answer
    made by `Page.answer`), and what reading it cost."""
    page = Page(limit, after, "bounded")
    with world.store.read() as tx:
        recording = Recording(tx)
        items, cursor = page.answer(listed.read(recording, site, page.keyset(*listed.parts)),
                                    listed.key)
        shown = next(ran for ran in recording.ran if not ran.counts)  # then the page's details
        assert len(shown.rows) <= limit + 1
        counts = [ran for ran in recording.ran if ran.counts]
        return Read(items, cursor, rows_read(tx, listed.table, shown),
                    *((rows_read(tx, listed.table, counts[0]), int(counts[0].rows[0][0]))
                      if counts else (None, None)))


def rows_read(tx: Tx, table: str, ran: Ran) -> int:
    """Rows of `table` a statement read. PostgreSQL: what its scans of the table produced or
    filtered out, by EXPLAIN (ANALYZE). SQLite: its plan must read the table by an index range
    with no sort of all it found; then the rows it returned (a COUNT: the rows it counted)."""
    if not tx.sqlite:
        tx.cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + ran.sql, ran.params)
        [[plan]] = tx.cursor.fetchall()
        return _scanned(plan[0]["Plan"] if isinstance(plan, list) else orjson.loads(plan)[0][
            "Plan"], table)
    tx.cursor.execute("EXPLAIN QUERY PLAN " + ran.sql, ran.params)
    details = [str(row[3]) for row in tx.cursor.fetchall()]
    assert not any(d.startswith("SCAN") or "TEMP B-TREE" in d for d in details), details
    assert any(d.startswith("SEARCH") and "INDEX" in d for d in details), details
    if ") > (" in ran.sql:  # after a cursor: the index range starts at the cursor's key
        assert any(")>(" in d for d in details), details
    return int(ran.rows[0][0]) if ran.counts else len(ran.rows)


def _scanned(node: dict[str, Any], table: str) -> int:
    own = 0
    if node.get("Relation Name") == table:
        own = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
               + node.get("Rows Removed by Index Recheck", 0)) * node["Actual Loops"]
    return own + sum(_scanned(child, table) for child in node.get("Plans", ()))


def read_all(world: World, site: Site, listed: List, limit: int = LIMIT,
             pages: int | None = None) -> list[Read]:
    """The list's pages in turn, each from the cursor of the one before (`pages` at most)."""
    found = [read_page(world, site, listed, None, limit)]
    while found[-1].cursor is not None and (pages is None or len(found) < pages):
        found.append(read_page(world, site, listed, decode(str(found[-1].cursor), "bounded"),
                               limit))
    return found


# -- the tests ----------------------------------------------------------------------------------

@pytest.mark.parametrize("listed", LISTS, ids=[listed.name for listed in LISTS])
def test_a_page_reads_as_many_rows_on_a_site_of_a_million_records_as_on_a_small_one(
    world: World, listed: List
) -> None:
    big = read_all(world, world.big, listed, pages=2)
    small = read_all(world, world.small, listed, pages=2)
    for site_pages in (big, small):  # both sites fill both pages
        assert [len(read.items) for read in site_pages] == [LIMIT, LIMIT]
    # A first page and the page after a cursor, on each site: the same rows read, a page's
    # worth (and one more, which tells that a next page exists); a subcontractor's page skips
    # the other employers' rows, in SQL: their share of the day, here 3 of 4. On site now skips
    # yesterday's entries that no exit closed, past the longest shift: a day's missing exits.
    most = (LIMIT + 1) * (4 if "subcontractor" in listed.name else 1)
    if listed.name == "on site now":
        most += world.small.workers // world.small.open_every
    for on_big, on_small in zip(big, small, strict=True):
        assert on_big.page_rows_read <= most
        # The same on the small site, unless PostgreSQL's planner chose to read a list that
        # small whole and sort it (a few hundred rows: the inbox through a one-site key).
        assert on_small.page_rows_read == on_big.page_rows_read or (
            not world.store.sqlite and on_small.page_rows_read <= 4 * (LIMIT + 1))
    # A headcount counts the whole list (every page) and reads nothing else: a day's rows on
    # both sites (a subcontractor's count skips the others' rows of the day); a range's open
    # entries (the range is a year at most, `check_range`).
    for read in (*big, *small):
        assert read.counted_rows_read is None or read.headcount is None or (
            read.headcount <= read.counted_rows_read <= 4 * read.headcount)


def walk(world: World, site: Site, listed: List, limit: int, pages: int) -> list[Key]:
    """Every item's key, page after page (`pages` at most), each page from the cursor of the one
    before."""
    keys: list[Key] = []
    page = Page(limit, None, "bounded")
    for _ in range(pages):
        with world.store.read() as tx:
            items, cursor = page.answer(listed.read(tx, site, page.keyset(*listed.parts)),
                                        listed.key)
        keys += [listed.key(item) for item in items]
        if cursor is None:
            break
        page = Page(limit, decode(cursor, "bounded"), "bounded")
    return keys


@pytest.mark.parametrize("listed", LISTS, ids=[listed.name for listed in LISTS])
def test_pages_chain_to_the_whole_list_without_gaps_or_repeats(
    world: World, listed: List
) -> None:
    small = listed.expected(world.small)
    assert walk(world, world.small, listed, 7, len(small)) == small  # every page, to the end
    big = listed.expected(world.big)  # the first five pages, or to the end if fewer
    assert big and walk(world, world.big, listed, 1000, 5) == big[:5000]


def test_a_key_of_another_site_reads_nothing_of_the_prime_s_inbox(world: World) -> None:
    with world.store.read() as tx:
        assert prime_inbox_page(tx, world.big.prime, Keyset(None, LIMIT),
                                only_sites={world.small.site_id}) == []
        assert prime_inbox_page(tx, world.big.prime, Keyset(None, LIMIT), only_sites=set()) == []
        assert prime_inbox_page(tx, world.big.prime, Keyset(None, LIMIT),
                                site_id=world.small.site_id) == []
