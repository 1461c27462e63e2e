"""Settlement: one month of Kentaikyo for 10,000 workers on 200 sites, and `verify` over 1,000,000
events, both on PostgreSQL.

The settlement runs in a fresh (spawned) process so its time and peak RSS are its own; the setup
(registrations saved in batches, taps through ``ledger.record_taps`` in batches of 1000, the
projection catch-up) is timed and printed too.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from ledger import clock
from ledger.actors import SYSTEM
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.base import LedgerAggregate
from ledger.domain.business import Business
from ledger.domain.registry import Reader
from ledger.domain.settlement import event_digest
from ledger.domain.site import Site
from ledger.domain.taps import Direction, TapObservation
from ledger.domain.worker import Worker
from ledger.ids import ReaderId, TapId, TechnicianId
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from projections.jobs.common import catch_up
from projections.jobs.rawlog import iter_raw
from projections.store import ReadStore
from tests.bench import bench_database, report, section

WORKERS, SITES, PRIMES, SUBS_PER_SITE = 10_000, 200, 40, 2
MONTH, MONTH_START = "2025-06", date(2025, 6, 1)
VERIFY_EVENTS, BATCH = 1_000_000, 1_000
ENROLLED = date(2021, 1, 1)


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM, kB). Not getrusage's ru_maxrss: Linux carries that
    over from the parent through fork and exec, so a spawned child reported the bench's own
    peak (the setup's) whenever it was the larger."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _save_in_batches(ledger: Ledger, aggregates: list[LedgerAggregate], size: int = 500) -> None:
    for i in range(0, len(aggregates), size):
        ledger.save(*aggregates[i:i + size])


def _world(ledger: Ledger, workers: int, sites: int) -> dict[str, str]:
    """Primes with 5 sites each, two subcontractors per site, workers spread evenly; every
    business and worker enrolled in Kentaikyo. Returns each worker's site."""
    primes = [f"{1000 + p}" for p in range(PRIMES)]
    site_ids = [f"{20_000_000_000_000 + s}" for s in range(sites)]
    subs = {site: [f"{5000 + s * SUBS_PER_SITE + k}" for k in range(SUBS_PER_SITE)]
            for s, site in enumerate(site_ids)}
    businesses = []
    for business_id in primes + [b for group in subs.values() for b in group]:
        business = Business.register(business_id, f"事業者{business_id}", SYSTEM)
        business.enroll_in_kentaikyo(f"9{business_id}", ENROLLED, SYSTEM)
        businesses.append(business)
    site_aggregates: list[LedgerAggregate] = []
    for s, site_id in enumerate(site_ids):
        site = Site.open(site_id, f"現場{s}", primes[s % PRIMES], "electronic",
                         date(2025, 1, 1), SYSTEM)
        for sub in subs[site_id]:
            site.add_subcontract(sub, primes[s % PRIMES], SYSTEM)
        site_aggregates += [site, Reader.register(f"R{s}", site_id, "auto", SYSTEM)]
    worker_site, worker_aggregates = {}, []
    for w in range(workers):
        technician_id = f"{30_000_000_000_000 + w}"
        site_id = site_ids[w % sites]
        worker = Worker.register(technician_id, f"技能者{w}", SYSTEM)
        worker.join_employer(subs[site_id][w % SUBS_PER_SITE], date(2020, 4, 1), True, SYSTEM)
        worker.enroll_in_kentaikyo(f"8{w:07d}", ENROLLED, SYSTEM)
        worker_aggregates.append(worker)
        worker_site[technician_id] = site_id
    _save_in_batches(ledger, [*businesses, *site_aggregates, *worker_aggregates])
    return worker_site


def _month_taps(worker_site: dict[str, str]) -> Iterator[tuple[datetime, list[TapObservation]]]:
    """Every weekday of the month, each worker in at 08:00 and out at 17:00, in batches."""
    sequence = 0
    readers = {site: f"R{int(site) - 20_000_000_000_000}" for site in set(worker_site.values())}
    day = MONTH_START
    while day.month == MONTH_START.month:
        if day.weekday() < 5:
            batch: list[TapObservation] = []
            for hour, direction in ((8, Direction.IN), (17, Direction.OUT)):
                at = datetime(day.year, day.month, day.day, hour, tzinfo=JST)
                for technician_id, site_id in worker_site.items():
                    reader = readers[site_id]
                    sequence += 1
                    batch.append(TapObservation(TapId(f"{reader}:{sequence}"), ReaderId(reader),
                                                direction, at,
                                                technician_id=TechnicianId(technician_id)))
                    if len(batch) == BATCH:
                        yield at, batch
                        batch = []
            if batch:
                yield at, batch
        day += timedelta(days=1)


def settle_in_child(url: str, out: str) -> dict[str, Any]:
    """Runs in a spawned process: the settlement alone, with its own peak RSS."""
    from projections.jobs.kentaikyo import settle_kentaikyo

    settings = Settings(database_url=url)
    ledger, store = Ledger(settings), ReadStore(settings)
    before = _rss_mb()
    with clock.clock_at(datetime(2025, 7, 10, 4, tzinfo=JST)):
        started = time.perf_counter()
        counts = settle_kentaikyo(ledger, store, MONTH, SYSTEM, Path(out))
        seconds = time.perf_counter() - started
    sizes = {p.name: p.stat().st_size for p in Path(out).rglob("*") if p.is_file()}
    store.close()
    ledger.close()
    return {"seconds": seconds, "rss_before": before, "rss_peak": _peak_rss_mb(),
            "counts": counts, "sizes": sizes}


def raw_baseline(url: str) -> float:
    """Raw PostgreSQL doing the settlement's I/O and nothing else: read the month's counted
    records with psycopg, and COPY one line per record into a table, in seconds."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT technician_id, employer_business_id, site_id, work_date FROM work_records "
            "WHERE work_date >= %s AND work_date < %s AND status = 'counted'",
            [MONTH_START, date(2025, 7, 1)]).fetchall()
        conn.execute("CREATE TEMP TABLE raw_lines (technician text, employer text, site text, "
                     "work_date date, points integer, outcome text)")
        with conn.cursor().copy("COPY raw_lines FROM STDIN") as copy:
            for technician, employer, site, work_date in rows:
                copy.write_row((technician, employer, site, work_date, 320, "eligible"))
    return time.perf_counter() - started


def bench_settlement(workers: int = WORKERS, sites: int = SITES) -> None:
    section(f"settlement: Kentaikyo {MONTH} for {workers:,} workers on {sites} sites "
            "(PostgreSQL)")
    with bench_database("bench_settle") as url, tempfile.TemporaryDirectory() as out:
        settings = Settings(database_url=url)
        migrate(settings)
        ledger, store = Ledger(settings), ReadStore(settings)
        started = time.perf_counter()
        with clock.clock_at(datetime(2025, 5, 20, 9, tzinfo=JST)) as fixed:
            worker_site = _world(ledger, workers, sites)
            registered = time.perf_counter()
            taps = 0
            for at, batch in _month_taps(worker_site):
                fixed.at = at + timedelta(minutes=1)
                ledger.record_taps(batch, SYSTEM)
                taps += len(batch)
            tapped = time.perf_counter()
            events = ledger.log_position()
            catch_up(ledger, store)
        projected = time.perf_counter()
        report("setup: registrations (batched saves)", registered - started, "s",
               f"{workers:,} workers, {sites} sites")
        report("setup: taps via record_taps", tapped - registered, "s",
               f"{taps:,} taps, {taps / (tapped - registered):,.0f} taps/s")
        report("setup: projection catch-up", projected - tapped, "s",
               f"{events:,} events, {events / (projected - tapped):,.0f} events/s")
        store.close()
        ledger.close()
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            result = pool.apply(settle_in_child, (url, out))
        raw = raw_baseline(url)
        counts = result["counts"]
        report("raw PostgreSQL: read the month's records, COPY its lines (baseline)", raw, "s")
        report("settle_kentaikyo (one month, files included)", result["seconds"], "s",
               f"{counts['day_lines']:,} worker-day lines, {counts['points_yen']:,} yen, "
               f"{result['seconds'] / raw:.1f}× raw")
        report("settle_kentaikyo peak RSS (own process)", result["rss_peak"], "MB",
               f"{result['rss_before']:.0f} MB before it started")
        total = sum(result["sizes"].values())
        report("settlement files", total / 2**20, "MB",
               ", ".join(f"{n.rsplit('-', 1)[-1]} {s / 2**20:.1f}"
                         for n, s in sorted(result["sizes"].items())))


def _rate(work: Callable[[], int]) -> tuple[float, float]:
    """(events a second, seconds) of one pass."""
    started = time.perf_counter()
    count = work()
    elapsed = time.perf_counter() - started
    return count / elapsed, elapsed


def _legacy_chain(store: ReadStore) -> int:
    """The version-2 seal's work: SHA-256 of each stored row, chained (what verify did before
    seals were signed trees)."""
    hasher, count = hashlib.sha256(), 0
    for raw in iter_raw(store, 0):
        hasher.update(event_digest(raw.originator_id, raw.version, raw.topic, raw.state))
        count += 1
    return count


def bench_verify(events: int = VERIFY_EVENTS) -> None:
    from projections.jobs.seal import seal_days
    from projections.jobs.seal_verify import verify_seals

    section(f"verify: the signed seal over {events:,} events (PostgreSQL)")
    with bench_database("bench_verify") as url, tempfile.TemporaryDirectory() as seals:
        settings = Settings(database_url=url, seal_key_file=Path(seals) / "seal.pem",
                            witness_dir=Path(seals) / "witness")
        migrate(settings)
        ledger, store = Ledger(settings), ReadStore(settings)
        day = date(2025, 6, 19)
        started = time.perf_counter()
        with clock.clock_at(datetime(2025, 6, 19, 7, tzinfo=JST)) as fixed:
            for first in range(0, events, BATCH):
                at = fixed.at
                ledger.record_taps([
                    TapObservation(TapId(f"R{n % 200}:{n}"), ReaderId(f"R{n % 200}"),
                                   Direction.IN, at, technician_id=TechnicianId(
                                       f"{30_000_000_000_000 + n % 50_000}"))
                    for n in range(first, min(first + BATCH, events))], SYSTEM)
                fixed.advance(timedelta(milliseconds=40))  # all within the 19th (JST)
            written = time.perf_counter()
            fixed.at = datetime(2025, 6, 20, 3, tzinfo=JST)
            _rate(lambda: sum(1 for _ in iter_raw(store, 0)))  # warm the cache for both
            raw_rate = _rate(lambda: sum(1 for _ in iter_raw(store, 0)))
            chain_rate = _rate(lambda: _legacy_chain(store))
            seal_started = time.perf_counter()
            sealed = seal_days(ledger, store, day, SYSTEM)
            seal_done = time.perf_counter()
            result = verify_seals(ledger, store)
            verified = time.perf_counter()
        assert result.ok and sealed["events"] == ledger.log_position() - 2, (result, sealed)
        seal_rate = sealed["events"] / (seal_done - seal_started)
        verify_rate = result.events_checked / (verified - seal_done)
        report("setup: record_taps, batches of 1000", written - started, "s",
               f"{events / (written - started):,.0f} events/s")
        report("baseline: read every raw row (PostgreSQL, pages of 10,000)", raw_rate[0],
               "events/s")
        report("before this change: the SHA-256 chain (each row's digest)", chain_rate[0],
               "events/s", f"{chain_rate[0] / raw_rate[0]:.2f}x raw "
               "(its verify: 99,778 events/s at the last stop)")
        report("seal one day (RFC 6962 tree over each row and its plain state, signed)", seal_rate,
               "events/s", f"{seal_rate / raw_rate[0]:.2f}x raw, "
               f"{seal_rate / chain_rate[0]:.2f}x the chain")
        report("verify (each leaf again, the runs, the root, signature, table, witness)",
               verify_rate, "events/s",
               f"{result.events_checked:,} events in {verified - seal_done:.1f} s; "
               f"{verify_rate / raw_rate[0]:.2f}x raw, "
               f"{verify_rate / chain_rate[0]:.2f}x the chain")
        store.close()
        ledger.close()


def run() -> None:
    bench_settlement()
    bench_verify()


if __name__ == "__main__":
    run()
