"""Ingest: taps/s storing 200,000 taps in batches, against raw psycopg executemany."""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import datetime, timedelta

import psycopg

from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from tests.bench import bench_database, report, section

TAPS, BATCH, READERS = 200_000, 1_000, 200
SYSTEM = Actor(Role.SYSTEM, "bench")


def morning_taps(run: str) -> list[TapObservation]:
    start = datetime(2025, 6, 2, 7, 0, tzinfo=JST)
    return [
        TapObservation(
            f"{run}{n % READERS}:{n}",
            f"{run}{n % READERS}",
            "in",
            start + timedelta(milliseconds=n),
            card_id=f"{n % 50_000:08X}",
        )
        for n in range(TAPS)
    ]


def ingest(ledger: Ledger, taps: list[TapObservation], threads: int) -> float:
    """Seconds to store every tap in BATCH-sized transactions, split over `threads` uploaders."""
    batches = [taps[i : i + BATCH] for i in range(0, len(taps), BATCH)]

    def upload(mine: list[list[TapObservation]]) -> None:
        for batch in mine:
            ledger.record_taps(batch, SYSTEM)

    workers = [threading.Thread(target=upload, args=(batches[k::threads],)) for k in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def raw_executemany(url: str, ledger: Ledger, taps: list[TapObservation]) -> float:
    """The same stored rows through psycopg executemany, 1000 per transaction, no library."""
    from ledger.domain.taps import Tap

    stored = [
        ledger.mapper.to_stored_event(Tap.recorded_event(t, t.reader_time, SYSTEM)) for t in taps
    ]
    rows = [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored]
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE raw_events (originator_id uuid, originator_version bigint, "
            "topic text, state bytea, notification_id bigserial, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        conn.commit()
        started = time.perf_counter()
        for i in range(0, len(rows), BATCH):
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO raw_events (originator_id, originator_version, "
                    "topic, state) VALUES (%s, %s, %s, %s)",
                    rows[i : i + BATCH],
                )
            conn.commit()
        return time.perf_counter() - started


def run() -> None:
    section(f"ingest: {TAPS:,} taps, {BATCH} per transaction, {READERS} readers")
    with bench_database("bench_ingest") as url:
        settings = Settings(database_url=url)
        migrate(settings)
        ledger = Ledger(settings)
        raw = TAPS / raw_executemany(url, ledger, morning_taps("X"))
        report("raw psycopg executemany (baseline)", raw, "rows/s")
        for threads in (1, 2):
            rate = TAPS / ingest(ledger, morning_taps(f"P{threads}T"), threads)
            report(
                f"ledger.record_taps PostgreSQL, {threads} uploader(s)",
                rate,
                "taps/s",
                f"{rate / raw:.2f}× raw; target ≥ 20,000",
            )
        ledger.close()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/ledger.db")
        migrate(settings)
        ledger = Ledger(settings)
        rate = TAPS / ingest(ledger, morning_taps("S"), 1)
        report(
            "ledger.record_taps SQLite (embedded default)",
            rate,
            "taps/s",
            f"{rate / raw:.2f}× raw PG; target ≥ 5,000",
        )
        ledger.close()
