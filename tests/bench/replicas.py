"""Read replicas: read throughput of `ledger serve --workers 2` on the primary alone, then with a
streaming hot standby (tests/pg_replica.py) answering its queries, in the same run.

The dataset is the API section's (tests/bench/api.py `prepare`: a worker's 10-year career of
2,150 work days, a site with 1,000 carded workers); the load is the career summary asked back to
back by 50 keep-alive connections from wrk. Both servers, both PostgreSQL clusters and wrk share
this machine's two cores: the figures show what reading on a standby costs or saves here, not
the capacity a standby on a machine of its own adds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg

from ledger.application import Ledger
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from tests.bench import report, section
from tests.bench.api import (
    CAREER_CLIENTS,
    CAREER_DAYS,
    CAREER_WORKER,
    SERVER_WORKERS,
    WRK_SECONDS,
    prepare,
    serving,
    wrk_closed_loop,
)
from tests.pg_replica import ReplicaPair, replica_pair

DB = "bench_replicas"
CAREER = f"/v1/workers/{CAREER_WORKER}/career?date_from=2015-01-01&date_to=2025-12-31"
ORDER = ("primary alone", "primary + 1 standby", "primary + 1 standby", "primary alone")
COMMITS = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"


def run() -> None:
    section(f"Read replicas: ledger serve --workers {SERVER_WORKERS}, the career summary "
            f"({CAREER_DAYS} days) asked by {CAREER_CLIENTS} connections (wrk), on the primary "
            "alone, then with one streaming standby")
    print("  both servers, the primary, the standby and wrk share this machine's "
          f"{os.cpu_count()} cores: a standby here moves the reads' database work, it adds no "
          "machine", flush=True)
    with replica_pair() as pair:
        with psycopg.connect(pair.primary_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DB}"')
        settings = Settings(database_url=pair.primary_url(DB))
        migrate(settings)
        ledger = Ledger(settings)
        try:
            token = prepare(ledger, settings)["worker"]
        finally:
            ledger.close()
        pair.wait_caught_up()
        with TemporaryDirectory(prefix="bench-replicas-") as folder:
            runs = {"primary alone": "", "primary + 1 standby": pair.standby_url(DB)}
            measured: dict[str, list[Measured]] = {name: [] for name in runs}
            for n, name in enumerate(ORDER):  # A B B A: a load that drifts weighs on both
                measured[name].append(measure(pair, Path(folder) / str(n), token, runs[name]))
    for name, (first, second) in measured.items():
        for run_of, figures in (("1st", first), ("2nd", second)):
            note = (f"transactions during the run (warm-up included): primary "
                    f"{figures.on_primary:,}, standby {figures.on_standby:,}")
            what = f"career, {CAREER_CLIENTS} clients, {name}, {run_of} run"
            report(f"{what}: throughput", figures.rate, "req/s", note)
            report(f"{what}: p50 / p99", figures.p50, "ms", f"p99 {figures.p99:,.1f} ms")
            report(f"{what}: primary's CPU", figures.cpu_primary, "s",
                   f"standby's {figures.cpu_standby:,.1f} s (PostgreSQL processes, whole run)")
    rates = {name: sum(m.rate for m in runs_of) for name, runs_of in measured.items()}
    report("throughput with the standby / primary alone", rates["primary + 1 standby"]
           / rates["primary alone"], "×", "both runs of each; same run, same two cores")


@dataclass(frozen=True)
class Measured:
    p50: float  # ms
    p99: float  # ms
    rate: float  # requests/s
    on_primary: int  # transactions committed on each cluster meanwhile
    on_standby: int
    cpu_primary: float  # CPU seconds its server processes used meanwhile
    cpu_standby: float


def measure(pair: ReplicaPair, folder: Path, token: str, replicas: str) -> Measured:
    """p50, p99 (ms) and requests/s of wrk against a server reading on `replicas` (none: the
    primary), and how many transactions each cluster committed meanwhile (every read statement
    is one: the read connections are in autocommit)."""
    folder.mkdir()
    with environment(LEDGER_READ_DATABASE_URLS=replicas, LEDGER_DATA_DIR=str(folder),
                     LEDGER_SEAL_KEY_FILE=str(folder / "seal.pem"),
                     LEDGER_WITNESS_DIR=str(folder / "witness"),
                     LEDGER_GATE_CODE_KEY_FILE=str(folder / "gate-code.key")), \
            serving(pair.primary_url(DB), folder) as base:
        before, cpu_before = commits(pair), cpu_seconds(pair)
        p50, p99, rate = wrk_closed_loop(base, CAREER, token, CAREER_CLIENTS, WRK_SECONDS)
        after, cpu_after = commits(pair), cpu_seconds(pair)
    return Measured(p50, p99, rate, after[0] - before[0], after[1] - before[1],
                    cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1])


def commits(pair: ReplicaPair) -> tuple[int, int]:
    """Committed transactions so far on the primary and on the standby (each counts its own;
    a backend reports its counts at most once a second, so a run's figure is within that)."""
    counts = []
    for url in (pair.primary_url(DB), pair.standby_url(DB)):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            row = conn.execute(COMMITS).fetchone()
        counts.append(int(row[0]) if row else 0)
    return counts[0], counts[1]


def cpu_seconds(pair: ReplicaPair) -> tuple[float, float]:
    """CPU seconds (user + system) the primary's and the standby's server processes have used:
    the postmaster's and its children's, from /proc (a backend that exited meanwhile is not
    counted; the servers' read connections stay open through a run)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    used = []
    for data in ("primary", "standby"):
        postmaster = int((pair.folder / data / "postmaster.pid").read_text().split()[0])
        used.append(sum(cpu for pid, (parent, cpu) in stats.items()
                        if pid == postmaster or parent == postmaster))
    return used[0], used[1]


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """These variables set for the server `serving` starts (it passes on this environment)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
