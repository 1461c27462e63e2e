"""Projection catch-up over a realistic log, against raw SQL doing the same aggregation.

Workload: WORKERS workers with cards at SITES sites, one entry and one exit tap a working day.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from datetime import date, datetime, timedelta

import psycopg
from eventsourcing.persistence import Mapper

from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from projections.decoding import TAP_RECORDED
from projections.follower import LogFollower
from projections.read_model_check import check_read_models
from projections.replay import rebuild
from projections.store import ReadStore
from tests.bench import bench_database, report, section

EVENTS = int(os.environ.get("LEDGER_BENCH_PROJECTION_EVENTS", "1000000"))
WORKERS, SITES = 2000, 20
ADMIN = Actor(Role.ADMIN, "bench")
PRIME = "100"


def register(ledger: Ledger) -> None:
    ledger.register_business(PRIME, "元請", ADMIN)
    ledger.register_business("200", "下請", ADMIN)
    for s in range(SITES):
        site_id = f"{10**13 + s}"
        ledger.open_site(site_id, f"現場{s}", PRIME, "electronic", date(2024, 1, 1), ADMIN)
        ledger.add_subcontract(site_id, "200", PRIME, ADMIN)
        ledger.register_reader(f"G{s}", site_id, "auto", ADMIN)
    for w in range(WORKERS):
        technician_id = f"{2 * 10**13 + w}"
        ledger.register_worker(technician_id, f"技能者{w}", ADMIN)
        ledger.join_employer(technician_id, "200", date(2020, 1, 1), True, ADMIN)
        ledger.issue_card(f"{w:08X}", technician_id, ADMIN)
        ledger.set_roster_entry(
            f"{10**13 + w % SITES}",
            technician_id,
            "200",
            "鉄筋",
            "職長" if w % 10 == 0 else "一般",
            date(2024, 1, 1),
            ADMIN,
        )


def record_days(ledger: Ledger, taps: int) -> None:
    start = datetime(2024, 4, 1, 7, 30, tzinfo=JST)
    n, day = 0, 0
    while n < taps:
        batch = []
        for w in range(WORKERS):
            site = w % SITES
            entry = start + timedelta(days=day, seconds=w)
            for direction, at in (("in", entry), ("out", entry + timedelta(hours=9))):
                batch.append(
                    TapObservation(f"G{site}:{n}", f"G{site}", direction, at, card_id=f"{w:08X}")
                )
                n += 1
            if len(batch) >= 1000:
                ledger.record_taps(batch, ADMIN)
                batch = []
        if batch:
            ledger.record_taps(batch, ADMIN)
        day += 1


class PeakRss:
    """Peak resident memory of this process while a block runs (sampled, in MB)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            with open("/proc/self/statm") as statm:
                pages = int(statm.read().split()[1])
            self.peak = max(self.peak, pages * resource.getpagesize() / 2**20)

    def __enter__(self) -> PeakRss:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def json_taps(url: str, ledger: Ledger) -> None:
    """The log's taps as the library's mapper stores them (tagged JSON), in `raw_taps`: taps are
    stored in a compact binary layout (`ledger.tap_codec`) that SQL cannot read, so the raw
    baseline reads this copy of them, made before its clock starts (the work it times is the
    same as when taps were stored as JSON)."""
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE raw_taps (state bytea)")
        with conn.cursor() as curs, curs.copy("COPY raw_taps (state) FROM STDIN") as copy:
            for _, event in ledger.iter_log():
                if type(event) is TAP_RECORDED:
                    copy.write_row((Mapper.to_stored_event(ledger.mapper, event).state,))


def raw_aggregation(url: str) -> float:
    """The same answer in plain SQL: work days per worker × site × JST date, first/last tap."""
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("""
            CREATE TEMP TABLE raw_days AS
            SELECT card_id, reader_id, (reader_time AT TIME ZONE 'Asia/Tokyo')::date AS day,
                   min(reader_time) AS first_tap, max(reader_time) AS last_tap, count(*) AS taps
            FROM (SELECT convert_from(state, 'UTF8')::jsonb AS s FROM raw_taps) e,
                 LATERAL (SELECT e.s->>'card_id' AS card_id, e.s->>'reader_id' AS reader_id,
                                 (e.s->'reader_time'->>'_data_')::timestamptz AS reader_time) t
            GROUP BY 1, 2, 3""")
    return time.perf_counter() - started


def self_check(ledger: Ledger, settings: Settings, events: int, rebuild_rate: float) -> None:
    """`ledger verify --read-models`: a rebuild into a shadow, then every table compared."""
    rebuilt_at = [0.0]

    def rebuilt(_: int) -> None:  # the last batch's time: the rebuild's end, the compare's start
        rebuilt_at[0] = time.perf_counter()

    with PeakRss() as memory:
        started = time.perf_counter()
        check = check_read_models(ledger, settings, progress=rebuilt)
        finished = time.perf_counter()
    seconds, compare = finished - started, finished - max(rebuilt_at[0], started)
    report(
        "read-model self-check (shadow rebuild + compare)",
        events / seconds,
        "events/s",
        f"{seconds:.1f} s ({compare:.1f} s comparing {check.rows:,} rows in "
        f"{len(check.tables)} tables); {'equal' if check.equal else 'DIFFERS'}; "
        f"{events / seconds / rebuild_rate:.2f}× the rebuild's {rebuild_rate:,.0f} events/s",
    )
    report("peak RSS during the self-check", memory.peak, "MB", "target < 500")


def run() -> None:
    section(f"projections: {EVENTS:,} events ({WORKERS} workers, {SITES} sites), PostgreSQL")
    with bench_database("bench_projection") as url:
        settings = Settings(database_url=url)
        migrate(settings)
        ledger = Ledger(settings)
        setup = time.perf_counter()
        register(ledger)
        record_days(ledger, EVENTS - ledger.log_position())
        events = ledger.log_position()
        report("setup: events written", events, "events", f"in {time.perf_counter() - setup:.0f} s")

        json_taps(url, ledger)
        raw_seconds = raw_aggregation(url)
        report(
            "raw SQL aggregation of the same taps (baseline)",
            events / raw_seconds,
            "events/s",
            f"{raw_seconds:.1f} s",
        )

        store = ReadStore(settings)
        runner = LogFollower(ledger, store)
        with PeakRss() as memory:
            started = time.perf_counter()
            runner.catch_up()
            catch_up = time.perf_counter() - started
        report(
            "projection catch-up",
            events / catch_up,
            "events/s",
            f"{catch_up:.1f} s; {events / catch_up / (events / raw_seconds):.2f}× raw; "
            "target ≥ 20,000",
        )
        report("peak RSS during catch-up", memory.peak, "MB", "target < 500")
        with PeakRss() as memory:
            started = time.perf_counter()
            rebuild(ledger, settings)
            seconds = time.perf_counter() - started
        report(
            "full rebuild (fresh tables + atomic swap)",
            seconds,
            "s",
            f"{events / seconds:,.0f} events/s; 10 M events ≈ {seconds * 1e7 / events / 60:.1f} "
            "min (target < 15)",
        )
        report("peak RSS during rebuild", memory.peak, "MB", "target < 500")
        self_check(ledger, settings, events, events / seconds)
        store.close()
        ledger.close()
