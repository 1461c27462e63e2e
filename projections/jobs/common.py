"""What every job does first: bring the read models up to the head of the log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import cast
from uuid import UUID

from ledger.application import Ledger
from ledger.domain.base import LedgerAggregate
from ledger.storage import SkipsDuplicates
from projections.projector import LedgerProjection
from projections.runner import ProjectionRunner
from projections.settlement import projection as settlement_projection
from projections.store import ReadStore


def catch_up(ledger: Ledger, store: ReadStore) -> int:
    """Project everything recorded so far (the ledger's read models, then the jobs' own); return
    the log position the read models now reflect."""
    max_shift = timedelta(hours=ledger.settings.max_shift_hours)
    runner = ProjectionRunner(ledger, store, LedgerProjection(max_shift))
    runner.catch_up()
    settlement_projection.catch_up(ledger, store)
    return runner.position()


INSERT_BATCH = 1000


def record_once(
    ledger: Ledger, store: ReadStore, aggregates: Sequence[LedgerAggregate]
) -> set[UUID]:
    """Store new single-event aggregates whose IDs are derived from what they are about (a
    site-day, a month, a day), skipping any stored already: the IDs of those inserted. The jobs'
    own tables are projected at once, so what a job decided is listed as soon as it returns
    (a day close's findings in the site's exceptions, not only after the next job's catch-up).

    This is the tap path's insert (one transaction per batch, the table lock kept, duplicates
    skipped), not ``Ledger.save``: besides making a second run a no-op without an error, it
    binds the rows in binary. ``Ledger.save`` goes through the library's pipelined insert, which
    was seen to hang on PostgreSQL with one event of about 15 MB (a month's settlement for
    10,000 workers); 7 MB went through.
    """
    recorder = cast(SkipsDuplicates, ledger.recorder)
    stored = []
    for aggregate in aggregates:
        (created,) = aggregate.collect_events()
        stored.append(ledger.mapper.to_stored_event(created))
    inserted: set[UUID] = set()
    for i in range(0, len(stored), INSERT_BATCH):
        inserted.update(recorder.insert_new_events(stored[i:i + INSERT_BATCH]))
    settlement_projection.catch_up(ledger, store)
    return inserted
