"""The HTTP API, served as in production: `ledger serve --workers 2` (uvicorn subprocesses) on
PostgreSQL, clients on 127.0.0.1 in this process. Each loop is bounded and stops by itself.

- a worker's 10-year career (2,150 work days) asked by 50 concurrent clients: p50/p99 latency,
  back to back (closed loop; from client threads here and from wrk, a load generator in C that
  leaves the server's cores to the server) and paced (each client 2, 6, 12 and 20 requests/s:
  100, 300, 600 and 1,000 req/s). Back to back, next to two baselines measured in the same run:
  raw PostgreSQL (pgbench, 50 clients running the two statements a career read cannot do
  without: the key's row and the worker's days by month) and the serving stack's floor (those
  two statements behind a bare FastAPI route on the same stack, `tests.bench.floor_app`);
- single-tap requests paced at 200 requests/s for 20 s: p50/p99 latency;
- ingest: 200,000 taps in batches of 500 from 8 concurrent readers: taps/s, next to raw psycopg
  executemany of the same rows (the baseline of tests/bench/ingest.py) measured in the same run.
"""

from __future__ import annotations

import glob
import http.client
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from ledger.storage.keys import KeyStore
from ledger.storage.migrate import migrate
from ledger.tap_records import observation_from_mapping
from projections.follower import LogFollower
from projections.store import ReadStore
from tests.bench import bench_database, report, section
from tests.bench.floor_app import KEY as FLOOR_KEY
from tests.bench.floor_app import MONTHS as FLOOR_MONTHS
from tests.bench.ingest import raw_executemany
from tests.pg import free_port

ADMIN = Actor(Role.ADMIN, "bench")
PRIME, SUB, SITE = "100", "200", "10000000000001"
CAREER_WORKER = "30000000000001"
CAREER_DAYS = 2_150  # 10 years of 215 days (DESIGN §2)
CAREER_CLIENTS, CAREER_REQUESTS = 50, 40  # 2,000 requests
PACED_CAREER_RATES = (2.0, 6.0, 12.0, 20.0)  # requests/s per client: 100–1,000 req/s in all
PACED_SECONDS = 10
WRK_SECONDS = 10
TAP_RATE, TAP_SECONDS, TAP_CLIENTS = 200, 20, 4
INGEST_TAPS, INGEST_BATCH, INGEST_CLIENTS = 200_000, 500, 8
CARDS = 1_000
SERVER_WORKERS = int(os.environ.get("W", "2"))
CLIENT_PROCESSES = 5
JSON = {"Content-Type": "application/json"}
LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


def run() -> None:
    section(f"HTTP API: ledger serve --workers {SERVER_WORKERS} on PostgreSQL, clients on "
            "127.0.0.1")
    with bench_database("bench_api") as url:
        settings = Settings(database_url=url)
        migrate(settings)
        ledger = Ledger(settings)
        try:
            tokens = prepare(ledger, settings)
            with TemporaryDirectory(prefix="bench-api-") as folder, \
                    serving(url, Path(folder)) as base:
                bench_career(url, base, tokens["worker"])
                bench_single_taps(base, tokens)
                rate = bench_ingest(base, tokens)
            raw = INGEST_TAPS / raw_executemany(url, ledger, ingest_observations("RAW", 1))
            report("raw psycopg executemany (baseline)", raw, "rows/s")
            report(f"HTTP ingest, batches of {INGEST_BATCH}, {INGEST_CLIENTS} clients", rate,
                   "taps/s", f"{rate / raw:.2f}× raw; target ≥ 10,000")
        finally:
            ledger.close()


# -- the world --------------------------------------------------------------------------------
def prepare(ledger: Ledger, settings: Settings) -> dict[str, str]:
    """A site with readers and carded workers, and one worker with 10 years of records, already
    projected; a key for each party the clients act as."""
    ledger.register_business(PRIME, "元請", ADMIN)
    ledger.register_business(SUB, "下請", ADMIN)
    ledger.open_site(SITE, "現場", PRIME, "electronic", date(2014, 1, 6), ADMIN)
    ledger.add_subcontract(SITE, SUB, PRIME, ADMIN)
    readers = [f"B{n}" for n in range(max(INGEST_CLIENTS, TAP_CLIENTS) + 1)]
    for reader in readers:
        ledger.register_reader(reader, SITE, "auto", ADMIN)
    ledger.register_worker(CAREER_WORKER, "山田 太郎", ADMIN)
    ledger.join_employer(CAREER_WORKER, SUB, date(2014, 1, 1), True, ADMIN)
    ledger.set_roster_entry(SITE, CAREER_WORKER, SUB, "鉄筋", "職長", date(2014, 1, 6), ADMIN)
    ledger.issue_card("C0FFEE", CAREER_WORKER, ADMIN)
    for n in range(CARDS):  # the cards the ingest's taps come from, each with its worker
        ledger.register_worker(f"{4 * 10**13 + n}", f"技能者{n}", ADMIN)
        ledger.issue_card(f"{n:08X}", f"{4 * 10**13 + n}", ADMIN)
    ledger.record_taps(career_taps(readers[-1]), ADMIN)
    store = ReadStore(settings)
    try:
        LogFollower(ledger, store).catch_up()
    finally:
        store.close()
    keys = KeyStore(settings)
    try:
        tokens = {f"reader:{r}": keys.create(Role.READER, r).token for r in readers}
        tokens["worker"] = keys.create(Role.WORKER, CAREER_WORKER).token
        tokens["admin"] = keys.create(Role.ADMIN, "bench").token
    finally:
        keys.close()
    return tokens


def career_taps(reader: str) -> list[TapObservation]:
    """An entry and an exit on each of 2,150 weekdays, from 2015-01-05 on."""
    taps: list[TapObservation] = []
    day, n = date(2015, 1, 5), 0
    while len(taps) < 2 * CAREER_DAYS:
        if day.weekday() < 5:
            for direction, hour in (("in", 8), ("out", 17)):
                n += 1
                taps.append(observation_from_mapping({
                    "tap_id": f"{reader}:{n}", "reader_id": reader, "card_id": "C0FFEE",
                    "direction": direction,
                    "reader_time": datetime(day.year, day.month, day.day, hour,
                                            tzinfo=JST).isoformat()}))
        day += timedelta(days=1)
    return taps


# -- the server -------------------------------------------------------------------------------
@contextmanager
def serving(url: str, folder: Path) -> Iterator[str]:
    env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_API_SCHEDULER": "false"}
    log = folder / "server.log"
    port = free_port()  # with several workers uvicorn reports port 0 as 0
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port",
             str(port), "--workers", str(SERVER_WORKERS), "--no-access-log"],
            env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(600):
            if (found := LISTENING.search(log.read_text())) or process.poll() is not None:
                break
            time.sleep(0.05)
        if not found:
            raise RuntimeError(f"the server did not start:\n{log.read_text()}")
        base = found.group(1)
        with httpx.Client(base_url=base) as client:
            for _ in range(600):  # the workers up and answering
                try:
                    if client.get("/v1/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


# -- clients: processes of threads, each thread one keep-alive connection -----------------------
@dataclass(frozen=True)
class Client:
    """One connection's work: `bodies` POSTed (or `count` GETs), back to back or every
    `interval` seconds, starting `offset` seconds after its process is ready."""

    method: str
    path: str
    headers: dict[str, str]
    bodies: tuple[bytes, ...] = ()
    count: int = 0
    interval: float | None = None
    offset: float = 0.0


def run_clients(base: str, clients: list[Client]) -> tuple[list[float], float]:
    """Every client's latencies, and the seconds it all took. The clients run in CLIENT_PROCESSES
    processes (spawned), so their own work does not queue behind one interpreter lock."""
    parts = [clients[k::CLIENT_PROCESSES] for k in range(CLIENT_PROCESSES)]
    context = multiprocessing.get_context("spawn")
    started = time.monotonic()
    with context.Pool(len(parts)) as pool:
        results = pool.starmap(client_process, [(base, part) for part in parts if part])
    return [x for r in results for x in r], time.monotonic() - started


def client_process(base: str, clients: list[Client]) -> list[float]:
    results: list[list[float]] = [[] for _ in clients]
    ready = time.monotonic() + 0.5  # every thread started and connected by then

    def one(k: int) -> None:
        results[k] = connection(base, clients[k], ready + clients[k].offset)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [x for r in results for x in r]


def connection(base: str, client: Client, first_at: float) -> list[float]:
    """Seconds from each request's moment (its scheduled one, when paced) to a 2xx answer."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)
    latencies = []
    try:
        for i, body in enumerate(client.bodies or (None,) * client.count):
            if client.interval is not None:
                began = first_at + i * client.interval
                time.sleep(max(0.0, began - time.monotonic()))
            else:
                began = time.monotonic()
            conn.request(client.method, client.path, body=body, headers=client.headers)
            response = conn.getresponse()
            answer = response.read()
            if response.status >= 300:
                raise RuntimeError(f"{response.status}: {answer[:300]!r}")
            latencies.append(time.monotonic() - began)
    finally:
        conn.close()
    return latencies


# -- a 10-year career, 50 clients ---------------------------------------------------------------
def bench_career(url: str, base: str, token: str) -> None:
    path = (f"/v1/workers/{CAREER_WORKER}/career?date_from=2015-01-01&date_to=2025-12-31")
    with httpx.Client(base_url=base) as client:
        answer = client.get(path, headers=bearer(token)).json()
    assert answer["work_days"] == CAREER_DAYS, answer
    back_to_back = [Client("GET", path, bearer(token), count=CAREER_REQUESTS)
                    for _ in range(CAREER_CLIENTS)]
    run_clients(base, back_to_back[:CLIENT_PROCESSES])  # warm: connections, pools, caches
    latencies, seconds = run_clients(base, back_to_back)
    p50, p99 = percentiles(latencies)
    what = f"career summary, {CAREER_DAYS} days, {CAREER_CLIENTS} clients"
    report(f"{what} back to back, p50", p50, "ms",
           f"{len(latencies)} requests, {len(latencies) / seconds:,.0f} req/s")
    report(f"{what} back to back, p99", p99, "ms", "target < 30 ms")
    p50, p99, rate = wrk_closed_loop(base, path, token, CAREER_CLIENTS, WRK_SECONDS)
    report(f"{what} back to back (wrk), p50", p50, "ms", f"{rate:,.0f} req/s")
    report(f"{what} back to back (wrk), p99", p99, "ms", "target < 30 ms")
    for name, (floor50, floor99, floor_rate) in (
            ("raw PostgreSQL (pgbench), the key and month rows", pgbench_closed_loop(url, token)),
            ("stack floor (bare FastAPI route, same statements)", floor_closed_loop(url, path,
                                                                                    token))):
        report(f"{name}, {CAREER_CLIENTS} clients, p50", floor50, "ms",
               f"{floor_rate:,.0f} req/s (baseline)")
        report(f"{name}, {CAREER_CLIENTS} clients, p99", floor99, "ms",
               f"ledger's p99 {p99 / floor99:.1f}× this")
    for per_client in PACED_CAREER_RATES:  # where the 30 ms p99 holds, at a steady rate
        interval = 1 / per_client
        paced = [Client("GET", path, bearer(token), count=int(per_client * PACED_SECONDS),
                        interval=interval, offset=k * interval / CAREER_CLIENTS)
                 for k in range(CAREER_CLIENTS)]
        latencies, seconds = run_clients(base, paced)
        p50, p99 = percentiles(latencies)
        rate = CAREER_CLIENTS * per_client
        report(f"{what} paced ({rate:.0f} req/s), p50", p50, "ms", f"{len(latencies)} requests")
        report(f"{what} paced ({rate:.0f} req/s), p99", p99, "ms", "target < 30 ms")


def wrk_closed_loop(base: str, path: str, token: str, connections: int,
                    seconds: int) -> tuple[float, float, float]:
    """p50 and p99 latency (ms) and requests/s of `connections` keep-alive connections asking
    back to back, from wrk: a load generator in C costs the server's two cores far less than
    client threads in Python do (clients of a real server are on other machines)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s",
               "-H", f"Authorization: Bearer {token}", base + path]
    subprocess.run([*command[:3], "-d2s", *command[4:]], check=True, capture_output=True)
    # A request slower than wrk's timeout would be left out of its latencies: 30 s keeps every
    # slow one in; any socket error or non-2xx answer fails the bench.
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw failed requests:\n{output}")
    # A latency in seconds is printed with a space after it ("1.02s "): allowed.
    latency = {cut: wrk_ms(value) for cut, value in re.findall(r"^\s+(50|99)%\s+(\S+)\s*$",
                                                                 output, re.MULTILINE)}
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if set(latency) != {"50", "99"} or rate is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return latency["50"], latency["99"], float(rate.group(1))


def wrk_ms(value: str) -> float:
    """wrk's "512.00us", "3.21ms" or "1.02s" in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def pgbench_closed_loop(url: str, token: str) -> tuple[float, float, float]:
    """p50 and p99 latency (ms) and transactions/s of CAREER_CLIENTS pgbench clients, each
    running the career read's two statements back to back (prepared, as psycopg prepares
    them), for WRK_SECONDS."""
    key_id = token.split("_")[1]
    begin, end = date(2015, 1, 1), date(2025, 12, 1)
    with TemporaryDirectory(prefix="bench-pgbench-") as folder:
        script = Path(folder) / "career.sql"
        script.write_text(f"{FLOOR_KEY % (literal(key_id),)};\n"
                          f"{FLOOR_MONTHS % tuple(map(literal, (CAREER_WORKER, begin, end)))};\n")
        ran = subprocess.run([pgbench(), "-n", "-M", "prepared", "-c", str(CAREER_CLIENTS),
                              "-j", "2", "-T", str(WRK_SECONDS), "-f", str(script), "--log",
                              f"--log-prefix={folder}/log", url], capture_output=True, text=True)
        if ran.returncode:
            raise RuntimeError(f"pgbench failed:\n{ran.stderr[-2000:]}")
        latencies = [int(line.split()[2]) / 1_000_000 for log in Path(folder).glob("log.*")
                     for line in log.read_text().splitlines()]
    p50, p99 = percentiles(latencies)
    return p50, p99, len(latencies) / WRK_SECONDS


def literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def pgbench() -> str:
    """pgbench, on PATH or next to the newest installed server's binaries."""
    found = shutil.which("pgbench") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True)), None)
    if found is None:
        raise RuntimeError("pgbench is missing (it comes with the PostgreSQL server package)")
    return found


def floor_closed_loop(url: str, path: str, token: str) -> tuple[float, float, float]:
    """`wrk_closed_loop` against the stack's floor (`tests.bench.floor_app`) on this database."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.bench.floor_app", str(port)],
                               env={**os.environ, "LEDGER_DATABASE_URL": url},
                               start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as client:
            for _ in range(600):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
        return wrk_closed_loop(base, path, token, CAREER_CLIENTS, WRK_SECONDS)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()


# -- single taps at 200 requests/s --------------------------------------------------------------
def bench_single_taps(base: str, tokens: dict[str, str]) -> None:
    per_client = TAP_RATE / TAP_CLIENTS
    count = int(per_client * TAP_SECONDS)
    clients = [Client(
        "POST", "/v1/taps", bearer(tokens[f"reader:B{k}"]) | JSON,
        bodies=tuple(orjson.dumps({"taps": [tap(f"B{k}", 10_000_000 + i, i)]})
                     for i in range(count)),
        interval=1 / per_client, offset=k / TAP_RATE) for k in range(TAP_CLIENTS)]
    latencies, _ = run_clients(base, clients)
    p50, p99 = percentiles(latencies)
    note = f"{len(latencies)} requests, {TAP_CLIENTS} connections, paced"
    report(f"single-tap request at {TAP_RATE}/s, p50", p50, "ms", note)
    report(f"single-tap request at {TAP_RATE}/s, p99", p99, "ms", "target < 20 ms")


def tap(reader: str, sequence: int, n: int, first_day: date = date(2024, 4, 1)) -> dict[str, Any]:
    """The n-th tap of a morning-and-evening pattern: every card in, then every card out, a day
    after another."""
    day, shift = divmod(n, 2 * CARDS)
    evening = shift >= CARDS
    when = datetime.combine(first_day + timedelta(days=day), datetime.min.time(), JST) + \
        timedelta(hours=17 if evening else 7, seconds=shift % CARDS)
    return {"tap_id": f"{reader}:{sequence}", "reader_id": reader, "card_id": f"{n % CARDS:08X}",
            "direction": "out" if evening else "in", "reader_time": when.isoformat()}


# -- ingest, batches of 500 from 8 readers ------------------------------------------------------
def ingest_observations(run: str, readers: int) -> list[TapObservation]:
    return [observation_from_mapping(tap(f"{run}{n % readers}", n, n)) for n in range(INGEST_TAPS)]


def bench_ingest(base: str, tokens: dict[str, str]) -> float:
    per_client = INGEST_TAPS // INGEST_CLIENTS
    clients = [Client(
        "POST", "/v1/taps", bearer(tokens[f"reader:B{k}"]) | JSON,
        bodies=tuple(orjson.dumps({"taps": [tap(f"B{k}", 20_000_000 + i, i)
                                            for i in range(first, first + INGEST_BATCH)]})
                     for first in range(0, per_client, INGEST_BATCH)))
        for k in range(INGEST_CLIENTS)]
    latencies, seconds = run_clients(base, clients)
    p50, p99 = percentiles(latencies)
    report(f"HTTP ingest batch of {INGEST_BATCH}, p50", p50, "ms")
    report(f"HTTP ingest batch of {INGEST_BATCH}, p99", p99, "ms")
    return per_client * INGEST_CLIENTS / seconds
