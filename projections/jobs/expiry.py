"""直接入力・訂正の期限切れ: requests still pending after the end of the month following their
work date (JST) become expired, and can no longer be approved."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from ledger import clock
from ledger.actors import Actor
from ledger.application import Ledger
from ledger.clock import approval_deadline, work_date_of
from ledger.domain.settlement import check_job_actor
from ledger.errors import InvalidState
from projections.jobs.common import catch_up
from projections.store import ReadStore, as_date


def expire_entries(ledger: Ledger, store: ReadStore, actor: Actor) -> dict[str, int]:
    check_job_actor(actor)
    now = clock.now()
    catch_up(ledger, store)
    # Only work dates before the first day of last month can be past their deadline today.
    cutoff = (work_date_of(now).replace(day=1) - timedelta(days=1)).replace(day=1)
    with store.read() as tx:
        pending = tx.execute(
            "SELECT request_id, work_date FROM {requests} WHERE status = 'pending' "
            "AND work_date < %s ORDER BY work_date, request_id", [cutoff])
    expired = already_decided = 0
    for request_id, work_date in pending:
        day = as_date(work_date)
        if day is None or approval_deadline(day) > now:
            continue
        try:
            ledger.expire(UUID(str(request_id)), actor)
        except InvalidState:  # decided since the read model was read: nothing to expire
            already_decided += 1
            continue
        expired += 1
    return {"pending_overdue": len(pending), "expired": expired,
            "already_decided": already_decided}
