"""What every job does first: bring the read models up to the head of the log."""

from __future__ import annotations

from datetime import timedelta

from ledger.application import Ledger
from projections.follower import LogFollower
from projections.projector import LedgerProjection
from projections.settlement import catch_up as project_decisions
from projections.store import ReadStore


def catch_up(ledger: Ledger, store: ReadStore) -> int:
    """Project everything recorded so far (the ledger's read models, then the jobs' own); return
    the log position the read models now reflect."""
    max_shift = timedelta(hours=ledger.settings.max_shift_hours)
    runner = LogFollower(ledger, store, LedgerProjection(max_shift))
    runner.catch_up()
    project_decisions(ledger, store)
    return runner.position()
