"""Benchmarks of the gate reader agent, run by ``make bench``:

- spool append latency: a tap from the card read to its durable commit (WAL, synchronous=FULL,
  one transaction per tap, as at the gate), p50 and p99 over 5,000 taps;
- backlog drain: an offline spool of 100,000 taps uploaded through the in-process transport into
  a Ledger on PostgreSQL (a throwaway database, dropped afterwards).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from ledger.clock import JST
from ledger.directions import DirectionMode
from readers.identity import CardIdentity
from readers.simulator import worker_cards
from readers.spool import Spool

if TYPE_CHECKING:  # the agent's bench runs without the server's stack imported at load
    from ledger.application import Ledger

Report = Callable[..., None]  # report(name, value, unit, note="")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SITE = "12345678901234"
APPEND_TAPS, BACKLOG_TAPS = 5_000, 100_000
DEBOUNCE = timedelta(seconds=10)


def run(report: Report) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-reader-") as directory:
        bench_append(report, Path(directory))
        bench_drain(report, Path(directory))


def bench_append(report: Report, directory: Path) -> None:
    spool = Spool(directory / "append.db", "BENCH-APPEND", first_sequence=1)
    cards = worker_cards(SITE, 500)
    start = datetime(2025, 6, 2, 7, 0, tzinfo=JST)
    latencies = []
    try:
        for n in range(APPEND_TAPS):  # each card comes back every 500 s: never debounced
            began = time.perf_counter()
            spool.record(cards[n % len(cards)], start + timedelta(seconds=n),
                         DirectionMode.AUTO, DEBOUNCE)
            latencies.append(time.perf_counter() - began)
    finally:
        spool.close()
    cuts = statistics.quantiles(latencies, n=100)
    note = f"{APPEND_TAPS} taps, one fsync'd commit each"
    report("reader spool append p50", cuts[49] * 1000, "ms", note)
    report("reader spool append p99", cuts[98] * 1000, "ms", f"{note}; target < 20 ms")


def backlog(cards: list[CardIdentity], taps: int) -> Iterator[tuple[CardIdentity, datetime]]:
    """Days offline at a big site: every worker in at ~07:30 and out at ~17:30, day after day."""
    day = datetime(2025, 6, 2, tzinfo=JST)
    for n in range(taps):
        round_, worker = divmod(n, len(cards))
        days, evening = divmod(round_, 2)
        at = day + timedelta(days=days, hours=17 if evening else 7, minutes=30,
                             seconds=worker % 3600)
        yield cards[worker], at


def bench_drain(report: Report, directory: Path) -> None:
    import psycopg

    url = os.environ.get("LEDGER_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    name = "reader backlog drain (in-process, PostgreSQL)"
    try:
        with throwaway_database(url) as database_url:
            taps, seconds = _drain(directory, database_url)
    except psycopg.OperationalError as error:  # say why, and let the other benchmarks run
        report(name, float("nan"), "taps/s", f"NOT MEASURED: PostgreSQL at {url}: {error}")
        return
    report(name, taps / seconds, "taps/s", f"{taps:,} taps, batches of 1000")
    report("reader backlog drain time", seconds, "s", f"{taps:,} taps; target < 30 s")


def _drain(directory: Path, database_url: str) -> tuple[int, float]:
    from ledger.application import Ledger
    from ledger.settings import Settings
    from ledger.storage.migrate import migrate
    from readers.inprocess import InProcessTransport
    from readers.uploader import Uploader

    settings = Settings(database_url=database_url)
    migrate(settings)
    ledger = Ledger(settings)
    _register_gate(ledger)  # the ledger answers an unregistered reader "unavailable"
    registry_events = ledger.log_position()
    spool = Spool(directory / "backlog.db", "BENCH-DRAIN", first_sequence=1)
    try:
        spooled = len(spool.record_all(backlog(worker_cards(SITE, 10_000), BACKLOG_TAPS),
                                       DirectionMode.AUTO, DEBOUNCE))
        uploader = Uploader(spool, InProcessTransport(ledger, "BENCH-DRAIN"))
        began = time.perf_counter()
        while uploader.upload_once():  # errors propagate: a failed drain is not a number
            pass
        seconds = time.perf_counter() - began
        status, stored = spool.status(), ledger.log_position() - registry_events
        if status.pending or status.delivered != spooled or stored != spooled:
            raise RuntimeError(f"drain incomplete: spooled {spooled}, delivered "
                               f"{status.delivered}, pending {status.pending}, stored {stored}")
        return spooled, seconds
    finally:
        spool.close()
        ledger.close()


def _register_gate(ledger: Ledger) -> None:
    from datetime import date

    from ledger.actors import Actor, Role

    admin = Actor(Role.ADMIN, "bench")
    ledger.register_business("100", "ベンチ建設", admin)
    ledger.open_site(SITE, "ベンチ現場", "100", "electronic", date(2025, 1, 6), admin)
    ledger.register_reader("BENCH-DRAIN", SITE, "auto", admin)


@contextmanager
def throwaway_database(url: str) -> Iterator[str]:
    """``bench_reader_<random>`` on the server at ``url``: created, yielded, dropped."""
    import psycopg

    name = f"bench_reader_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    def report(name: str, value: float, unit: str, note: str = "") -> None:
        print(f"{name:<48} {value:>12,.2f} {unit:<7} {note}")

    run(report)


if __name__ == "__main__":
    main()
