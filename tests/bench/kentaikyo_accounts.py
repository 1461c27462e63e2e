"""Kentaikyo accounts: coverage reconciliation of one month for 10,000 workers on 200 sites
(PostgreSQL), next to the month's settlement on the same data and a raw-PostgreSQL baseline, all
in the same run.

The world and its taps are the settlement section's (every weekday, in at 08:00, out at 17:00).
Each subcontractor then applies one report paying for its workers' days, leaving out every 10th
worker's last day (not covered) and paying every 25th worker's first day twice (the prime pays
it too, 元請一括). Every site is electronic and every worker enrolled, so no day is "not
eligible" here (the integration tests cover that outcome).
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta

from ledger import clock
from ledger.actors import SYSTEM, Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from projections.jobs.common import catch_up
from projections.queries.kentaikyo_accounts import reconcile
from projections.store import ReadStore
from tests.bench import bench_database, report, section
from tests.bench.settlement import (
    MONTH,
    MONTH_START,
    SITES,
    WORKERS,
    _month_taps,
    _world,
    settle_in_child,
)

OFFICE = Actor(Role.ADMIN, "bench")  # records the employers' purchases and reports


def _reports(ledger: Ledger, store: ReadStore) -> tuple[int, int]:
    """One applied report per paying business, its days as the records say; returns (reports,
    days paid)."""
    with store.read() as tx:
        rows = tx.execute(
            "SELECT w.technician_id, w.site_id, w.work_date, w.employer_business_id, "
            "s.prime_business_id FROM {work_records} w JOIN {sites} s USING (site_id) "
            "WHERE w.status = 'counted' AND w.work_date >= %s AND w.work_date < %s",
            [MONTH_START, date(2025, 7, 1)])
    last_day: dict[str, date] = {}
    first_day: dict[str, date] = {}
    for technician, _, day, _, _ in rows:
        last_day[technician] = max(day, last_day.get(technician, day))
        first_day[technician] = min(day, first_day.get(technician, day))
    paid: dict[str, list[tuple[str, str, date]]] = defaultdict(list)
    for technician, site, day, employer, prime in rows:
        n = int(technician) % 1000
        if n % 10 == 0 and day == last_day[technician]:
            continue  # not covered
        paid[employer].append((technician, site, day))
        if n % 25 == 0 and day == first_day[technician]:
            paid[prime].append((technician, site, day))  # paid twice
    for business, days in paid.items():
        points = 320 * len(days)
        ledger.purchase_points(business, "P-2025-06", date(2025, 6, 1), points, False, OFFICE)
        ledger.use_points(business, MONTH, date(2025, 7, 10), points, OFFICE, tuple(days))
    return len(paid), sum(len(days) for days in paid.values())


def raw_baseline(url: str) -> float:
    """Raw PostgreSQL doing the reconciliation's I/O and nothing else: the month's counted
    records and the payments for them, each read once with psycopg, in seconds."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute(
            "SELECT technician_id, employer_business_id, site_id, work_date, event_positions "
            "FROM work_records WHERE work_date >= %s AND work_date < %s AND status = 'counted'",
            [MONTH_START, date(2025, 7, 1)]).fetchall()
        conn.execute(
            "SELECT position, business_id, technician_id, site_id, work_date "
            "FROM kentaikyo_contributions WHERE work_date >= %s AND work_date < %s",
            [MONTH_START, date(2025, 7, 1)]).fetchall()
    return time.perf_counter() - started


def bench_reconciliation(workers: int = WORKERS, sites: int = SITES) -> None:
    section(f"kentaikyo accounts: coverage reconciliation of {MONTH} for {workers:,} workers on "
            f"{sites} sites (PostgreSQL)")
    with bench_database("bench_accounts") as url, tempfile.TemporaryDirectory() as out:
        settings = Settings(database_url=url)
        migrate(settings)
        ledger, store = Ledger(settings), ReadStore(settings)
        started = time.perf_counter()
        with clock.clock_at(datetime(2025, 5, 20, 9, tzinfo=JST)) as fixed:
            worker_site = _world(ledger, workers, sites)
            for at, batch in _month_taps(worker_site):
                fixed.at = at + timedelta(minutes=1)
                ledger.record_taps(batch, SYSTEM)
            catch_up(ledger, store)
            fixed.at = datetime(2025, 7, 10, 9, tzinfo=JST)
            reports, days_paid = _reports(ledger, store)
            catch_up(ledger, store)
        report("setup: world, a month of taps, reports, projection", time.perf_counter() - started,
               "s", f"{reports} reports paying {days_paid:,} worker-days")
        raw = raw_baseline(url)
        report("raw PostgreSQL: read the month's records and payments (baseline)", raw, "s")
        begun = time.perf_counter()
        result = reconcile(store, MONTH)
        seconds = time.perf_counter() - begun
        counts = result.counts()
        report("reconcile (whole month, every worker-day)", seconds, "s",
               f"{len(result.days):,} worker-days, {seconds / raw:.1f}× raw; " + ", ".join(
                   f"{k} {v:,}" for k, v in counts.items()))
        assert counts["not_covered"] and counts["paid_twice"] and counts["covered_once"]
        store.close()
        ledger.close()
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            settled = pool.apply(settle_in_child, (url, out))
        report("settle_kentaikyo on the same month (for comparison)", settled["seconds"], "s",
               f"reconcile / settle = {seconds / settled['seconds']:.2f}")


def run() -> None:
    bench_reconciliation()


if __name__ == "__main__":
    run()
