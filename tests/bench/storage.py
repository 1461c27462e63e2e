"""Storage per tap: bytes on disk of the event table and its indexes, per stored tap.

TAPS taps (`LEDGER_BENCH_STORAGE_TAPS`, default 100,000) of a working month (READERS readers
at SITES sites, WORKERS workers, DAYS days), each reader uploading its own taps a few seconds
after they happen, are recorded through the real write path (`Ledger.record_taps` with the
reader's key) into a fresh database, plain and encrypted.
Next to them, in the same database, the same rows as the library's own mapper stores them (tagged
JSON and the class's full topic: what every tap was before the compact layout), and the floor:
the same rows with an empty state. All three tables have the event table's columns and indexes
and are filled in the same order (so their B-trees split alike), then vacuumed and analysed.

The event table as written holds the same rows on more pages than a copy written in one
statement ("packed"): the recorder's pooled connections each fill a page of their own and leave
it part full (a backend keeps its own insertion page). VACUUM records that space and later taps
fill it, so a long-lived table comes near the packed figure; both are printed.
"""

from __future__ import annotations

import os
import random
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from eventsourcing.persistence import Mapper, Notification, StoredEvent

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from tests.bench import bench_database, report, section

TAPS = int(os.environ.get("LEDGER_BENCH_STORAGE_TAPS", "100000"))
SITES, READERS_PER_SITE, WORKERS, DAYS = 100, 2, 5_000, 20
TARGET_BYTES, FLOOR_RATIO = 200, 1.5
CIPHER_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # 32 bytes, for the bench only


@dataclass(frozen=True)
class Upload:
    """One reader's upload: its taps of a few minutes, received a few seconds after the last."""

    reader_id: str
    received_at: datetime
    taps: list[TapObservation]


def month_of_taps(count: int, seed: int = 20) -> list[Upload]:
    """Entries in the morning and exits in the evening; most cards have a 4-byte UID, some a
    7-byte one, and one tap in ten gives the 14-digit technician ID instead of a card. Reader
    sequence numbers continue from where a reader in service for months would be."""
    rng = random.Random(seed)
    readers = [f"S{s:04d}-G{g}" for s in range(SITES) for g in range(1, READERS_PER_SITE + 1)]
    sequence = {reader: rng.randrange(10_000, 2_000_000) for reader in readers}
    per_day = -(-count // DAYS)
    uploads: list[Upload] = []
    made = 0
    for day in range(DAYS):
        start = datetime(2026, 6, 1, tzinfo=JST) + timedelta(days=day + day // 5 * 2)
        pending: dict[str, list[TapObservation]] = {}
        moments = sorted(
            start + timedelta(hours=rng.choice((7, 17)), seconds=rng.randrange(7_200),
                              microseconds=rng.randrange(1_000_000))
            for _ in range(min(per_day, count - made)))
        for moment in moments:
            worker = rng.randrange(WORKERS)
            reader = readers[worker % SITES * READERS_PER_SITE + rng.randrange(READERS_PER_SITE)]
            sequence[reader] += 1
            identity: dict[str, Any] = (
                {"technician_id": f"{3 * 10**13 + worker}"} if rng.random() < 0.1
                else {"card_id": f"04{worker:012X}" if worker % 4 == 0 else f"{worker:08X}"})
            pending.setdefault(reader, []).append(TapObservation(
                f"{reader}:{sequence[reader]}", reader, "in" if moment.hour < 12 else "out",
                moment, **identity))
            taps = pending[reader]
            if len(taps) >= 50 or moment - taps[0].reader_time > timedelta(minutes=15):
                uploads.append(_upload(reader, pending.pop(reader), rng))
            made += 1
        uploads += [_upload(reader, taps, rng) for reader, taps in pending.items()]
    uploads.sort(key=lambda upload: upload.received_at)
    return uploads


def _upload(reader: str, taps: list[TapObservation], rng: random.Random) -> Upload:
    delay = timedelta(seconds=rng.uniform(0.5, 5))
    return Upload(reader, taps[-1].reader_time.astimezone(UTC) + delay, taps)


class TickingClock:
    """The ledger's clock during an upload: each reading a little later than the one before, as
    the server's clock is while it stores a batch (a tap's event timestamp is read per tap)."""

    def __init__(self) -> None:
        self.at = datetime(2026, 6, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self.at += timedelta(microseconds=9)
        return self.at


def record(ledger: Ledger, uploads: Sequence[Upload]) -> None:
    ticking = TickingClock()
    previous = clock.set_clock(ticking)
    try:
        for upload in uploads:
            ticking.at = upload.received_at
            ledger.record_taps(upload.taps, Actor(Role.READER, upload.reader_id))
    finally:
        clock.set_clock(previous)


def field_bytes(uploads: Sequence[Upload]) -> float:
    """A tap's fields at their natural binary sizes, averaged: event ID 16, version 8, log
    position 8, event type 1, three moments 8 each and the reader's UTC offset 2, the sequence
    number 8, the reader ID's characters, a card UID's bytes or a technician ID as an 8-byte
    integer, direction 1, the actor's role 1 and its ID's characters."""
    total = 0
    for upload in uploads:
        for tap in upload.taps:
            total += 16 + 8 + 8 + 1 + 3 * 8 + 2 + 8 + len(tap.reader_id) + 1 + 1
            total += len(tap.card_id) // 2 if tap.card_id else 8
            total += len(upload.reader_id)
    return total / sum(len(upload.taps) for upload in uploads)


@dataclass(frozen=True)
class Sizes:
    heap: int  # the table's main fork
    maps: int  # its free-space and visibility maps
    indexes: dict[str, int]
    total: int  # pg_total_relation_size (TOAST included)


def sizes(conn: psycopg.Connection[Any], table: str) -> Sizes:
    heap, maps, total = conn.execute(
        "SELECT pg_relation_size(%s::regclass, 'main'), pg_relation_size(%s::regclass, 'fsm') "
        "+ pg_relation_size(%s::regclass, 'vm'), pg_total_relation_size(%s::regclass)",
        [table] * 4).fetchone() or (0, 0, 0)
    indexes = dict(conn.execute(
        "SELECT c.relname, pg_relation_size(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
        "ORDER BY c.relname", [table]).fetchall())
    return Sizes(heap, maps, indexes, total)


def other_tables(conn: psycopg.Connection[Any]) -> int:
    """Bytes of every table but the event table, indexes included: what else the write path
    could have written."""
    row = conn.execute(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
        "AND n.nspname = 'public' AND c.relname <> 'ledger_events'").fetchone()
    return int(row[0]) if row else 0


def vacuum(url: str, *tables: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for table in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")


def copy_of_event_table(conn: psycopg.Connection[Any], name: str) -> Sizes:
    """An empty table with the event table's columns, key and notification index."""
    conn.execute(f"CREATE TABLE {name} (LIKE ledger_events INCLUDING INDEXES)")
    conn.commit()
    return sizes(conn, name)


def stored_rows(url: str) -> Iterator[tuple[int, Notification]]:
    with psycopg.connect(url) as conn, conn.cursor(name="rows", binary=True) as curs:
        curs.execute("SELECT notification_id, originator_id, originator_version, topic, state "
                     "FROM ledger_events ORDER BY notification_id")
        for position, originator_id, version, topic, state in curs:
            yield position, Notification(id=position, originator_id=originator_id,
                                         originator_version=version, topic=topic,
                                         state=bytes(state))


def library_form(mapper: Mapper[Any], notification: Notification) -> StoredEvent:
    """The event as the library's own mapper stores it (tagged JSON, the class's topic)."""
    return Mapper.to_stored_event(mapper, mapper.to_domain_event(notification))


def fill_copies(url: str, mapper: Mapper[Any]) -> dict[str, tuple[Sizes, Sizes]]:
    """Tables of the event table's shape holding, in log order, each in one statement: the
    stored rows as they are ("packed"), the same events as the library's mapper stores them
    ("library"), and the rows with an empty state ("floor"). (empty, filled) sizes of each."""
    with psycopg.connect(url) as conn:
        empty = {name: copy_of_event_table(conn, f"{name}_events")
                 for name in ("packed", "library", "floor")}
        conn.execute("INSERT INTO packed_events SELECT * FROM ledger_events "
                     "ORDER BY notification_id")
        with conn.cursor() as curs, curs.copy(
            "COPY library_events (originator_id, originator_version, topic, state, "
            "notification_id) FROM STDIN"
        ) as copy:
            for position, notification in stored_rows(url):
                stored = library_form(mapper, notification)
                copy.write_row((stored.originator_id, stored.originator_version, stored.topic,
                                stored.state, position))
        conn.execute("INSERT INTO floor_events SELECT originator_id, originator_version, topic, "
                     "''::bytea, notification_id FROM ledger_events ORDER BY notification_id")
        conn.commit()
    vacuum(url, *(f"{name}_events" for name in empty))
    with psycopg.connect(url) as conn:
        return {name: (before, sizes(conn, f"{name}_events")) for name, before in empty.items()}


def per_tap(after: Sizes, before: Sizes, taps: int) -> float:
    return (after.total - before.total) / taps


def postgres(uploads: Sequence[Upload], taps: int, fields: float, cipher_key: str | None) -> None:
    kind = "encrypted" if cipher_key else "plain"
    with bench_database(f"bench_storage_{kind}") as url:
        settings = Settings(database_url=url, cipher_key=cipher_key)
        migrate(settings)
        with psycopg.connect(url, autocommit=True) as conn:
            # Bytes on disk do not depend on waiting for each commit's flush; the run does.
            conn.execute(f'ALTER DATABASE "{conn.info.dbname}" SET synchronous_commit = off')
            empty, others_before = sizes(conn, "ledger_events"), other_tables(conn)
        ledger = Ledger(settings)
        record(ledger, uploads)
        vacuum(url, "ledger_events")
        with psycopg.connect(url) as conn:
            stored, others_after = sizes(conn, "ledger_events"), other_tables(conn)
            topics = conn.execute("SELECT topic, count(*), avg(octet_length(state)) "
                                  "FROM ledger_events GROUP BY topic ORDER BY 2 DESC").fetchall()
        copies = fill_copies(url, ledger.mapper)
        ledger.close()
    written = per_tap(stored, empty, taps)
    packed, library, floor = (per_tap(copies[name][1], copies[name][0], taps)
                              for name in ("packed", "library", "floor"))
    heap = {name: (after.heap - before.heap) / taps for name, (before, after) in copies.items()}
    report(f"PostgreSQL {kind}: event table + indexes as written, per tap", written, "B",
           f"{written / floor:.2f}× the floor; {written / fields:.1f}× the fields' raw size")
    report("  heap (main fork), per tap", (stored.heap - empty.heap) / taps, "B",
           f"{(stored.heap - empty.heap) / taps / heap['packed'] - 1:.0%} more than packed; "
           f"fsm + vm {(stored.maps - empty.maps) / taps:.1f} B")
    for name, size in stored.indexes.items():
        report(f"  index {name}, per tap", (size - empty.indexes[name]) / taps, "B")
    for topic, count, state in topics:
        report(f"  stored state, topic {topic!r} ({count:,} rows)", float(state), "B")
    report(f"PostgreSQL {kind}: the same rows packed (one statement)", packed, "B",
           f"{packed / floor:.2f}× the floor; heap {heap['packed']:.1f} B")
    report(f"PostgreSQL {kind}: the library's form packed (tagged JSON)", library, "B",
           f"{library / floor:.2f}× the floor; heap {heap['library']:.1f} B")
    report(f"PostgreSQL {kind}: floor packed (same rows and topic, empty state)", floor, "B",
           f"heap {heap['floor']:.1f} B, indexes {floor - heap['floor']:.1f} B")
    report(f"PostgreSQL {kind}: other tables written by record_taps, per tap",
           (others_after - others_before) / taps, "B", "every other table, indexes included")
    for name, figure in (("as written", written), ("packed", packed)):
        report(f"PostgreSQL {kind}: verdict, {name}", figure, "B",
               f"target ≤ {TARGET_BYTES} B: {'met' if figure <= TARGET_BYTES else 'NOT met'}; "
               f"≤ {FLOOR_RATIO}× the floor ({FLOOR_RATIO * floor:.0f} B): "
               f"{'yes' if figure <= FLOOR_RATIO * floor else 'NO'}")


def sqlite(uploads: Sequence[Upload], taps: int) -> None:
    """The embedded default: the event table and its key's index from dbstat, per tap."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/ledger.db")
        migrate(settings)
        ledger = Ledger(settings)
        record(ledger, uploads)
        ledger.close()
        with closing(sqlite3.connect(f"{folder}/ledger.db")) as conn:
            conn.execute("VACUUM")
            pages = dict(conn.execute(
                "SELECT name, sum(pgsize) FROM dbstat WHERE name IN "
                "(SELECT name FROM sqlite_schema WHERE tbl_name = 'stored_events') "
                "GROUP BY name").fetchall())
            state = conn.execute("SELECT avg(length(state)) FROM stored_events").fetchone()[0]
    report("SQLite: stored_events + its key's index, per tap", sum(pages.values()) / taps, "B",
           ", ".join(f"{name} {size / taps:.1f} B" for name, size in sorted(pages.items()))
           + f"; state {state:.1f} B")


def run() -> None:
    uploads = month_of_taps(TAPS)
    taps = sum(len(upload.taps) for upload in uploads)
    section(f"storage: {taps:,} taps ({SITES * READERS_PER_SITE} readers, {WORKERS:,} workers, "
            f"{DAYS} days, {len(uploads):,} uploads), bytes on disk per tap")
    fields = field_bytes(uploads)
    report("a tap's fields at their natural binary sizes (raw row)", fields, "B",
           "IDs, moments, sequence, reader, card or technician, direction, actor")
    for cipher_key in (None, CIPHER_KEY):
        postgres(uploads, taps, fields, cipher_key)
    sqlite(uploads, taps)
