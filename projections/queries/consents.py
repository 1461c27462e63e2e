"""What waits for a worker's consent (Issue 13): businesses' claims to employ a registered worker
(所属事業者の関連付け, `worker_employment_requests`) and career certificates proposed by a prime or
an upper subcontractor (経歴証明, `worker_certificate_proposals`), with what became of them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from projections.queries._common import Source, reading, values_filter
from projections.queries.paging import Keyset
from projections.store import Tx, as_date


class ConsentStatus(str, Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


ANSWERED = frozenset({ConsentStatus.CONFIRMED, ConsentStatus.DECLINED})


@dataclass(frozen=True)
class EmploymentRequest:
    technician_id: str
    business_id: str
    since: date
    primary: bool
    status: ConsentStatus
    requested_position: int
    decided_position: int | None


@dataclass(frozen=True)
class CertificateProposal:
    certificate_id: str
    technician_id: str
    certifier_business_id: str
    relation: str
    trade: str
    period_start: date
    period_end: date
    work_days: int
    foreman_days: int
    team_leader_days: int
    basis: str
    status: ConsentStatus
    proposed_position: int
    decided_position: int | None


def _where(column: str, value: str, statuses: Collection[ConsentStatus]) -> tuple[str, list[Any]]:
    marks = ", ".join(["%s"] * len(statuses))
    return (f"WHERE {column} = %s AND status IN ({marks})",
            [value, *(status.value for status in statuses)])


def _paged(tx: Tx, order: str, page: Keyset | None, workers: Collection[str] | None
           ) -> tuple[str, list[Any]]:
    """The scope's workers (None: all) and the page (None: every row), in SQL."""
    shown_sql, shown_params = values_filter(tx, "technician_id", workers)
    if page is None:
        return f"{shown_sql} ORDER BY {order}", shown_params
    after, tail, keyset_params = page.clauses((order,))
    return shown_sql + after + tail, [*shown_params, *keyset_params]


def employment_requests(
    source: Source, *, statuses: Collection[ConsentStatus], technician_id: str | None = None,
    business_id: str | None = None, page: Keyset | None = None,
    workers: Collection[str] | None = None,
) -> list[EmploymentRequest]:
    """One worker's requests (`technician_id`) or one business's (`business_id`), in the order
    they were made; `page`: a page of them (keyset on the log position of the request);
    `workers`: only those workers' (a key's scope), None: all."""
    column, value = (("technician_id", technician_id) if technician_id is not None
                     else ("business_id", business_id))
    assert value is not None, "a worker or a business"
    if not statuses:
        return []
    where, params = _where(column, value, statuses)
    with reading(source) as tx:
        paged, paged_params = _paged(tx, "requested_position", page, workers)
        rows = tx.execute(
            "SELECT technician_id, business_id, since, is_primary, status, requested_position, "
            f"decided_position FROM {{worker_employment_requests}} {where}{paged}",
            [*params, *paged_params])
    return [_employment_request(row) for row in rows]


def _employment_request(row: Sequence[Any]) -> EmploymentRequest:
    since = as_date(row[2])
    assert since is not None
    return EmploymentRequest(
        technician_id=str(row[0]), business_id=str(row[1]), since=since, primary=bool(row[3]),
        status=ConsentStatus(row[4]), requested_position=int(row[5]),
        decided_position=None if row[6] is None else int(row[6]))


def certificate_proposals(
    source: Source, *, statuses: Collection[ConsentStatus], technician_id: str | None = None,
    certifier_business_id: str | None = None, page: Keyset | None = None,
    workers: Collection[str] | None = None,
) -> list[CertificateProposal]:
    """One worker's proposed certificates (`technician_id`) or one certifier's, in the order they
    were proposed; `page` and `workers` as for `employment_requests`."""
    column, value = (("technician_id", technician_id) if technician_id is not None
                     else ("certifier_business_id", certifier_business_id))
    assert value is not None, "a worker or a certifier"
    if not statuses:
        return []
    where, params = _where(column, value, statuses)
    with reading(source) as tx:
        paged, paged_params = _paged(tx, "proposed_position", page, workers)
        rows = tx.execute(
            "SELECT certificate_id, technician_id, certifier_business_id, relation, trade, "
            "period_start, period_end, work_days, foreman_days, team_leader_days, basis, status, "
            f"proposed_position, decided_position FROM {{worker_certificate_proposals}} "
            f"{where}{paged}", [*params, *paged_params])
    return [_proposal(row) for row in rows]


def _proposal(row: Sequence[Any]) -> CertificateProposal:
    start, end = as_date(row[5]), as_date(row[6])
    assert start is not None and end is not None
    return CertificateProposal(
        certificate_id=str(row[0]), technician_id=str(row[1]), certifier_business_id=str(row[2]),
        relation=str(row[3]), trade=str(row[4]), period_start=start, period_end=end,
        work_days=int(row[7]), foreman_days=int(row[8]), team_leader_days=int(row[9]),
        basis=str(row[10]), status=ConsentStatus(row[11]), proposed_position=int(row[12]),
        decided_position=None if row[13] is None else int(row[13]))
