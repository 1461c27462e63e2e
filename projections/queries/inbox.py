"""The prime contractor's inbox: pending manual entries (直接入力) and corrections (訂正) on its
sites, oldest first, each with its deadline — the end of the month after the work date, JST."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

import orjson

from ledger.clock import approval_deadline
from projections.queries._common import Source, reading, values_filter
from projections.queries.paging import Keyset
from projections.store import as_date, as_datetime


@dataclass(frozen=True)
class PendingRequest:
    request_id: str
    kind: str  # ManualEntry | Correction
    technician_id: str
    site_id: str
    work_date: date
    employer_business_id: str
    requested_by: str  # role:id
    requested_at: datetime
    deadline: datetime  # exclusive: the first instant (JST) after the last day to decide
    trade: str | None  # manual entry: what it asks to record
    position: str | None
    work_content: str | None
    entry_at: datetime | None
    exit_at: datetime | None
    note: str | None
    changes: Mapping[str, Any]  # correction: field → new value (times as ISO text)
    reason: str | None  # correction: why
    event_positions: tuple[int, ...]


def prime_inbox(
    source: Source, prime_business_id: str, site_id: str | None = None, limit: int = 500
) -> list[PendingRequest]:
    """Pending requests on the prime's sites (or one of them), oldest request first."""
    site_sql, params = ("", [prime_business_id]) if site_id is None else (
        " AND s.site_id = %s", [prime_business_id, site_id])
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT r.request_id, r.kind, r.technician_id, r.site_id, r.work_date, "
            "r.employer_business_id, r.requested_by, r.requested_at, r.payload, r.positions "
            "FROM {sites} s JOIN {requests} r ON r.site_id = s.site_id AND r.status = 'pending' "
            f"WHERE s.prime_business_id = %s{site_sql} "
            "ORDER BY r.requested_at, r.request_id LIMIT %s", [*params, limit])
    return [_pending(row) for row in rows]


def prime_inbox_page(
    source: Source, prime_business_id: str, page: Keyset, site_id: str | None = None,
    only_sites: Collection[str] | None = None,
) -> list[PendingRequest]:
    """A page of `prime_inbox` in SQL: keyset on (requested_at, request_id) over the pending
    requests' index, the caller's sites (a key scoped to some sites; None: all) in the WHERE."""
    site_sql, params = ("", [prime_business_id]) if site_id is None else (
        " AND r.site_id = %s", [prime_business_id, site_id])
    after, tail, keyset_params = page.clauses(("r.requested_at", "r.request_id"))
    with reading(source) as tx:
        shown_sql, shown_params = values_filter(tx, "r.site_id", only_sites)
        rows = tx.execute(
            "SELECT r.request_id, r.kind, r.technician_id, r.site_id, r.work_date, "
            "r.employer_business_id, r.requested_by, r.requested_at, r.payload, r.positions "
            "FROM {requests} r WHERE r.status = 'pending' AND r.prime_business_id = %s"
            f"{site_sql}{shown_sql}{after}{tail}",
            [*params, *shown_params, *keyset_params])
    return [_pending(row) for row in rows]


def _pending(row: Sequence[Any]) -> PendingRequest:
    work_date, requested_at = as_date(row[4]), as_datetime(row[7])
    assert work_date is not None and requested_at is not None
    payload = orjson.loads(row[8])
    return PendingRequest(
        request_id=row[0], kind=row[1], technician_id=row[2], site_id=row[3],
        work_date=work_date, employer_business_id=row[5], requested_by=row[6],
        requested_at=requested_at, deadline=approval_deadline(work_date),
        trade=payload.get("trade"), position=payload.get("position"),
        work_content=payload.get("work_content"), entry_at=as_datetime(payload.get("entry_at")),
        exit_at=as_datetime(payload.get("exit_at")), note=payload.get("note"),
        changes=MappingProxyType(payload.get("changes", {})), reason=payload.get("reason"),
        event_positions=tuple(orjson.loads(row[9])),
    )
