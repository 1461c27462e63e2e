"""Working time: the overtime monitor for 10,000 workers × 12 months, computed incrementally by
the projection, and the answer time for one employer's month (PostgreSQL).

Each worker-month is one employer's month report (`WorkingTimeMonth.Started` and
`MonthReported`: 240,000 events), with a 36 agreement per employer. The catch-up runs in a
spawned process so its time and peak RSS are its own. Baselines from the same run: raw psycopg
COPY of the same 120,000 month rows (what the projection's rows cost to write at the least), and
a raw SELECT of one employer's 6 months of rows (what the monitor reads at the least).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from datetime import date, datetime
from typing import Any

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.base import LedgerAggregate
from ledger.domain.labour_rules import add_months
from ledger.domain.working_time import OvertimeAgreement, WorkingTimeMonth
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from projections.follower import LogFollower
from projections.projector import LedgerProjection
from projections.queries.working_time import monitor
from projections.store import ReadStore
from tests.bench import bench_database, report, section
from tests.bench.settlement import _peak_rss_mb, _rss_mb

WORKERS, MONTHS, EMPLOYERS = 10_000, 12, 50
FIRST_MONTH = date(2025, 4, 1)
ASKED = date(2026, 3, 1)  # the last month: its averages and year reach back over the rest
ANSWERS = 20


def _employer(w: int) -> str:
    return f"{6000 + w % EMPLOYERS}"


def _technician(w: int) -> str:
    return f"{40_000_000_000_000 + w}"


def _overtime(w: int, m: int) -> int:
    """Minutes of overtime: 20–99 h, spread so every verdict occurs."""
    return (20 + (w * 7 + m * 13) % 80) * 60


def _write(ledger: Ledger) -> int:
    now = clock.now()
    agreements: list[LedgerAggregate] = []
    for e in range(EMPLOYERS):
        business = f"{6000 + e}"
        agreement = OvertimeAgreement.start(business, Actor(Role.EMPLOYER, business))
        agreement.conclude(FIRST_MONTH, e % 2 == 0, None, Actor(Role.EMPLOYER, business))
        agreements.append(agreement)
    ledger.save(*agreements)
    batch: list[LedgerAggregate] = []
    for w in range(WORKERS):
        employer = Actor(Role.EMPLOYER, _employer(w))
        for m in range(MONTHS):
            month = WorkingTimeMonth.start(employer.id, _technician(w), add_months(FIRST_MONTH, m),
                                           employer)
            month.report_month(160 * 60, _overtime(w, m), (w + m) % 3 * 8 * 60, None, employer,
                               now)
            batch.append(month)
        if len(batch) >= 1_000:
            ledger.save(*batch)
            batch = []
    if batch:
        ledger.save(*batch)
    return ledger.log_position()


def project_in_child(url: str) -> dict[str, Any]:
    """Runs in a spawned process: the catch-up alone, with its own time and peak RSS."""
    settings = Settings(database_url=url)
    ledger, store = Ledger(settings), ReadStore(settings)
    before = _rss_mb()
    started = time.perf_counter()
    LogFollower(ledger, store, LedgerProjection()).catch_up()
    seconds = time.perf_counter() - started
    store.close()
    ledger.close()
    return {"seconds": seconds, "rss_before": before, "rss_peak": _peak_rss_mb()}


def raw_copy(url: str) -> float:
    import psycopg

    rows = [(_technician(w), _employer(w), add_months(FIRST_MONTH, m), 0, 0, 0, 0, 160 * 60,
             _overtime(w, m), 0, "[1, 2]") for w in range(WORKERS) for m in range(MONTHS)]
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE raw_months (LIKE working_time_months)")
        with conn.cursor().copy("COPY raw_months FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - started


def raw_select(url: str, employer: str) -> list[float]:
    import psycopg

    times = []
    with psycopg.connect(url) as conn:
        for _ in range(ANSWERS):
            started = time.perf_counter()
            conn.execute(
                "SELECT technician_id, month, month_overtime_minutes, month_holiday_minutes "
                "FROM working_time_months WHERE employer_business_id = %s AND month >= %s "
                "AND month <= %s", [employer, add_months(ASKED, -11), ASKED]).fetchall()
            times.append(time.perf_counter() - started)
    return times


def bench_monitor() -> None:
    section(f"working time: the overtime monitor, {WORKERS:,} workers × {MONTHS} months "
            "(PostgreSQL)")
    with bench_database("bench_working_time") as url:
        settings = Settings(database_url=url)
        migrate(settings)
        ledger = Ledger(settings)
        started = time.perf_counter()
        with clock.clock_at(datetime(2026, 4, 5, 9, tzinfo=JST)):
            events = _write(ledger)
        written = time.perf_counter()
        ledger.close()
        report("setup: month reports saved (batches of 1,000 aggregates)", written - started,
               "s", f"{events:,} events")
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            result = pool.apply(project_in_child, (url,))
        raw = raw_copy(url)
        report("raw PostgreSQL: COPY the 120,000 month rows (baseline)", raw, "s")
        report("projection catch-up (incremental monitor rows)", result["seconds"], "s",
               f"{events / result['seconds']:,.0f} events/s, {result['seconds'] / raw:.1f}× raw")
        report("projection catch-up peak RSS (own process)", result["rss_peak"], "MB",
               f"{result['rss_before']:.0f} MB before it started")
        store = ReadStore(settings)
        employer = _employer(0)
        times, answered = [], 0
        with clock.clock_at(datetime(2026, 4, 5, 9, tzinfo=JST)):
            for _ in range(ANSWERS):
                begun = time.perf_counter()
                with store.read() as tx:
                    answered = len(monitor(tx, employer, ASKED, ASKED.replace(day=31)))
                times.append(time.perf_counter() - begun)
        store.close()
        raw_times = raw_select(url, employer)
        report("raw PostgreSQL: SELECT one employer's 12 months (baseline, median)",
               statistics.median(raw_times) * 1000, "ms")
        report("one employer's month, every limit judged (median)",
               statistics.median(times) * 1000, "ms",
               f"{answered} workers, {statistics.median(times) / statistics.median(raw_times):.1f}"
               "× raw")


def run() -> None:
    bench_monitor()


if __name__ == "__main__":
    run()
