"""Career proof (経歴証明): its size, and the time to build and to verify it, for a worker with
2,150 work days (10 years' worth by DESIGN §2's 215 days a year) on PostgreSQL.

Setup: the worker taps in and out every day at one site (職長 from the day after the first
thousand), three other workers tap in each day, each day is sealed. The raw baseline is the I/O a
proof cannot avoid: psycopg reading the worker's counted records and the stored rows of every
event behind them.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from ledger import clock
from ledger.actors import SYSTEM, Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.settlement.career_proof import CareerProof, verify
from ledger.domain.settlement.heads import public_key_bytes
from ledger.domain.taps import Direction, TapObservation
from ledger.ids import CardId, ReaderId, TapId
from ledger.settings import Settings
from ledger.storage import seal_key
from ledger.storage.migrate import migrate
from projections.jobs.common import catch_up
from projections.jobs.seal import seal_days
from projections.queries.career_proof import build_career_proof, signing_key
from projections.store import ReadStore
from tests.bench import bench_database, report, section

DAYS, OTHERS, SEAL_RUN = 2_150, 3, 500
FIRST_DAY = date(2019, 1, 1)
WORKER, SITE, READER, PRIME, EMPLOYER = "12345678901234", "10000000000001", "GATE-1", "100", "200"
ADMIN = Actor(Role.ADMIN, "bench")


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=JST)


def _register(ledger: Ledger) -> None:
    ledger.register_business(PRIME, "鈴木建設", ADMIN)
    ledger.register_business(EMPLOYER, "田中鉄筋", ADMIN)
    ledger.open_site(SITE, "新宿", PRIME, "electronic", FIRST_DAY, ADMIN)
    ledger.add_subcontract(SITE, EMPLOYER, PRIME, ADMIN)
    ledger.register_reader(READER, SITE, "auto", ADMIN)
    for n, technician in enumerate([WORKER, *(f"2222222222222{k}" for k in range(OTHERS))]):
        ledger.register_worker(technician, f"技能者{n}", ADMIN)
        ledger.join_employer(technician, EMPLOYER, date(2018, 4, 1), True, ADMIN)
        ledger.issue_card(f"0C{n:06d}", technician, ADMIN)
        ledger.set_roster_entry(SITE, technician, EMPLOYER, "鉄筋", "一般", FIRST_DAY, ADMIN)


def _tap(n: int, card: int, direction: Direction, moment: datetime) -> TapObservation:
    return TapObservation(TapId(f"{READER}:{n}"), ReaderId(READER), direction, moment,
                          card_id=CardId(f"0C{card:06d}"))


def _career(ledger: Ledger, store: ReadStore, fixed: clock.FixedClock) -> int:
    """Every day's taps recorded that day, sealed in runs of days; returns the log's length."""
    n = 0
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    for k in range(DAYS):
        day = FIRST_DAY + timedelta(days=k)
        if k == 1_000:
            ledger.set_roster_entry(SITE, WORKER, EMPLOYER, "鉄筋", "職長", day, ADMIN)
        fixed.at = at(day, 18)
        batch = [_tap(n + 1, 0, Direction.IN, at(day, 8)), _tap(n + 2, 0, Direction.OUT,
                                                                  at(day, 17))]
        batch += [_tap(n + 3 + o, 1 + o, Direction.IN, at(day, 8)) for o in range(OTHERS)]
        n += len(batch)
        ledger.record_taps(batch, SYSTEM)
        if k == 0 or k % SEAL_RUN == SEAL_RUN - 1 or day == last:
            fixed.at = at(day + timedelta(days=1), 3)
            seal_days(ledger, store, day, SYSTEM)
    catch_up(ledger, store)
    return ledger.log_position()


def raw_baseline(url: str) -> float:
    """psycopg alone: the worker's counted records, then the stored rows behind them."""
    import orjson
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT event_positions FROM work_records WHERE technician_id = %s "
                            "AND status = 'counted'", [WORKER]).fetchall()
        positions = [p for (text,) in rows for p in orjson.loads(text)]
        found = conn.execute("SELECT notification_id, state FROM ledger_events "
                             "WHERE notification_id = ANY(%s)", [positions]).fetchall()
    assert len(found) == len(positions)
    return time.perf_counter() - started


def bench_career_proof() -> None:
    section(f"career proof: a worker with {DAYS:,} work days, each day sealed (PostgreSQL)")
    with bench_database("bench_proof") as url, tempfile.TemporaryDirectory() as home:
        settings = Settings(database_url=url, seal_key_file=Path(home) / "seal.pem",
                            witness_dir=Path(home) / "witness")
        migrate(settings)
        ledger, store = Ledger(settings), ReadStore(settings)
        started = time.perf_counter()
        with clock.clock_at(at(FIRST_DAY, 7)) as fixed:
            _register(ledger)
            events = _career(ledger, store, fixed)
            set_up = time.perf_counter()
            key = signing_key(ledger)
            proof = build_career_proof(ledger, store, WORKER, "鉄筋", None, key)
            built = time.perf_counter()
        data = proof.to_json()
        parsed_at = time.perf_counter()
        verified = verify(CareerProof.from_json(data),
                          [public_key_bytes(seal_key.load(settings.seal_key_path))])
        checked = time.perf_counter()
        raw = raw_baseline(url)
        assert verified.proven.trade_work_days == DAYS and verified.left_out == 0
        report("setup: register, tap and seal every day", set_up - started, "s",
               f"{events:,} events, {DAYS:,} daily seals")
        report("raw PostgreSQL: the worker's records and event rows (baseline)", raw * 1000,
               "ms", f"{verified.events:,} events")
        report("build the career proof (read, prove, sign)", (built - set_up) * 1000, "ms",
               f"{(built - set_up) / raw:.1f}× raw; {verified.records:,} records, "
               f"{verified.events:,} event proofs, {verified.heads:,} signed heads")
        report("career proof size (JSON)", len(data) / 2**20, "MB",
               f"{len(data):,} bytes, {len(data) / verified.events:,.0f} bytes an event")
        report("verify offline (parse, signatures, proofs, recount)",
               (checked - parsed_at) * 1000, "ms", f"職長 {verified.proven.foreman_days} days")
        store.close()
        ledger.close()


def run() -> None:
    bench_career_proof()


if __name__ == "__main__":
    run()
