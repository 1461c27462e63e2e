"""Incremental projection == full rebuild == rebuild after a crash at a random point."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import clock
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from projections.projector import LedgerProjection
from projections.replay import rebuild, replay_as_of
from projections.runner import ProjectionRunner
from projections.store import ReadStore, Tx
from tests import pg
from tests.integration.projection_support import day_months_of, snapshot
from tests.integration.world import ADMIN, PRIME_STAFF, SUB, register_world

SITE_B = "10000000000002"
WORKER_B = "22345678901234"
DAY0 = date(2025, 6, 2)

tap_op = st.tuples(
    st.just("tap"),
    st.sampled_from(["GATE-1", "GATE-2", "GATE-X"]),
    st.sampled_from(["04A1B2C3", "0B0B0B0B", "FFFFFFFF"]),
    st.integers(0, 3),
    st.integers(0, 47),
    st.sampled_from(["in", "out", "unknown"]),
)
entry_op = st.tuples(
    st.just("entry"),
    st.sampled_from(["12345678901234", WORKER_B]),
    st.integers(0, 3),
    st.sampled_from(["approve", "reject", "pending"]),
    st.sampled_from(["一般", "職長"]),
)
history = st.lists(st.one_of(tap_op, tap_op, entry_op), min_size=1, max_size=40)


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "postgres":
        with pg.fresh_database("ledger_prop") as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/ledger.db"


def more_world(ledger: Ledger) -> None:
    register_world(ledger)
    ledger.open_site(SITE_B, "品川駅前再開発", "100", "stamp", date(2024, 1, 9), ADMIN)
    ledger.add_subcontract(SITE_B, SUB, "100", PRIME_STAFF)
    ledger.register_reader("GATE-2", SITE_B, "auto", PRIME_STAFF)
    ledger.register_worker(WORKER_B, "佐藤 花子", ADMIN)
    ledger.join_employer(WORKER_B, SUB, date(2021, 1, 1), True, ADMIN)
    ledger.issue_card("0B0B0B0B", WORKER_B, ADMIN)


def apply(ledger: Ledger, op: tuple[Any, ...], n: int) -> None:
    if op[0] == "tap":
        _, reader, card, day, half_hour, direction = op
        at = datetime.combine(DAY0 + timedelta(days=day), datetime.min.time(), JST) + timedelta(
            minutes=30 * half_hour
        )
        ledger.record_taps(
            [TapObservation(f"{reader}:{n}", reader, direction, at, card_id=card)], ADMIN
        )
        return
    _, worker, day, decision, position = op
    entry = ledger.request_manual_entry(
        worker,
        "10000000000001",
        DAY0 + timedelta(days=day),
        SUB,
        "鉄筋",
        position,
        "配筋",
        ADMIN.__class__(ADMIN.role.__class__("employer"), SUB),
    )
    if decision == "approve":
        ledger.approve(entry, PRIME_STAFF)
    elif decision == "reject":
        ledger.reject(entry, "not seen on site", PRIME_STAFF)


class CrashingProjection(LedgerProjection):
    def __init__(self, crash_at_batch: int) -> None:
        super().__init__()
        self.batches_left = crash_at_batch

    def process(self, tx: Tx, batch: Any) -> None:
        super().process(tx, batch)
        self.batches_left -= 1
        if self.batches_left == -1:  # once: then it goes on with what it kept from before
            raise psycopg.OperationalError("simulated crash before commit")


def check_history(
    backend: str, ops: list[tuple[Any, ...]], chunk: int, batch: int, crash_at: int
) -> None:
    with (
        database(backend) as url,
        clock.clock_at(datetime(2025, 6, 20, 10, tzinfo=JST)),
        tempfile.TemporaryDirectory() as folder,
    ):
        settings_ = Settings(database_url=url)
        migrate(settings_)
        ledger = Ledger(settings_)
        store = ReadStore(settings_)
        try:
            more_world(ledger)
            runner = ProjectionRunner(ledger, store, batch_size=batch)
            for n, op in enumerate(ops):
                apply(ledger, op, n)
                if n % chunk == 0:
                    runner.catch_up()
            runner.catch_up()
            incremental = snapshot(store)
            assert incremental["work_day_months"] == day_months_of(incremental["work_records"])

            rebuild(ledger, settings_, batch_size=batch)
            assert snapshot(store) == incremental

            crash_file = Path(folder) / "crash.db"
            replay_as_of(ledger, datetime.max.replace(tzinfo=JST), crash_file).close()
            crash_settings = Settings(database_url=f"sqlite:///{crash_file}")
            crash_store = ReadStore(crash_settings)
            with crash_store.transaction() as tx:  # start again from nothing
                for table in incremental:
                    tx.execute(f"DELETE FROM {{{table}}}")
            batches = -(-ledger.log_position() // batch)
            crashing = ProjectionRunner(
                ledger, crash_store, CrashingProjection(crash_at % batches), batch_size=batch
            )
            with pytest.raises(psycopg.OperationalError, match="simulated crash"):
                crashing.catch_up()
            crashing.run_once()  # the same runner, after a batch that rolled back
            ProjectionRunner(ledger, crash_store, batch_size=batch).catch_up()  # a new process
            assert snapshot(crash_store) == incremental
            crash_store.close()
        finally:
            store.close()
            ledger.close()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_incremental_equals_rebuild_equals_rebuild_after_a_crash(backend: str) -> None:
    examples = 15 if backend == "sqlite" else 6

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        ops=history, chunk=st.integers(1, 7), batch=st.integers(1, 9), crash_at=st.integers(0, 50)
    )
    def run(ops: list[tuple[Any, ...]], chunk: int, batch: int, crash_at: int) -> None:
        check_history(backend, ops, chunk, batch, crash_at)

    run()
