"""A projection process killed mid-batch and restarted counts everything exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.replay import rebuild
from projections.store import ReadStore
from tests.integration.projection_support import snapshot
from tests.integration.world import ADMIN, register_world

DAYS, WORKERS_TAPS = 40, 600


def record_a_busy_site(ledger: Ledger) -> int:
    register_world(ledger)
    start = datetime(2025, 4, 1, 7, 30, tzinfo=JST)
    n = 0
    for day in range(DAYS):
        batch = []
        for k in range(WORKERS_TAPS):
            at = start + timedelta(days=day, seconds=k)
            card = "04A1B2C3" if k % 50 == 0 else f"{k:08X}"  # most cards are unknown
            batch.append(
                TapObservation(f"GATE-1:{n}", "GATE-1", "in" if k % 2 else "out", at, card_id=card)
            )
            n += 1
        ledger.record_taps(batch, ADMIN)
    return n


def test_a_killed_projection_restarts_and_counts_everything_once(
    ledger: Ledger, settings: Settings, now: object
) -> None:
    taps = record_a_busy_site(ledger)
    head = ledger.log_position()
    store = ReadStore(settings)
    runner = LogFollower(ledger, store)
    env = os.environ | {"LEDGER_DATABASE_URL": settings.database_url}
    command = [sys.executable, "-c", "from api.cli import main; main()", "project"]

    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while runner.position() == 0:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = runner.position()
    assert process.returncode == -signal.SIGKILL and 0 < killed_at < head

    restarted = subprocess.run(command, env=env, capture_output=True, timeout=600)
    assert restarted.returncode == 0, restarted.stderr.decode()
    assert runner.position() == head
    with store.read() as tx:
        assert tx.execute("SELECT count(*) FROM {tap_facts}")[0][0] == taps
    after_crash = snapshot(store)
    rebuild(ledger, settings)
    assert snapshot(store) == after_crash
    store.close()
