"""Concurrent writers and a follower: the follower's view never misses an event.

The tap ingest path has its own INSERT; it keeps the library's table lock so that commit order
equals notification-ID order. Without it a follower could read past an ID that commits later."""

from __future__ import annotations

import threading
from datetime import datetime

from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from tests.integration.world import ADMIN

WRITERS, BATCHES, BATCH = 4, 30, 50


def test_a_follower_sees_every_event_of_concurrent_writers(ledger: Ledger) -> None:
    done = threading.Event()
    seen: list[int] = []

    def follow() -> None:
        position = 0
        while True:
            finished = done.is_set()
            notifications = ledger.recorder.select_notifications(
                start=position, limit=500, inclusive_of_start=False
            )
            for notification in notifications:
                seen.append(notification.id)
                position = notification.id
            if finished and not notifications:
                return

    def write(writer: int) -> None:
        at = datetime(2025, 6, 20, 8, 0, tzinfo=JST)
        for batch in range(BATCHES):
            ledger.record_taps(
                [
                    TapObservation(
                        f"W{writer}:{batch * BATCH + n}", f"W{writer}", "in", at, card_id="ABCD"
                    )
                    for n in range(BATCH)
                ],
                ADMIN,
            )

    follower = threading.Thread(target=follow)
    writers = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    follower.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    follower.join()

    stored = [n.id for n in ledger.recorder.select_notifications(start=None, limit=10**6)]
    assert len(stored) == WRITERS * BATCHES * BATCH
    assert seen == stored  # in order, nothing skipped, nothing twice
