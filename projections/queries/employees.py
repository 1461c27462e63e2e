"""所属技能者: a business's employees today (confirmed employments, not ended), and the
requests (直接入力, 訂正) pending for them with this business as the named employer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from projections.queries._common import Source, reading
from projections.store import as_date


@dataclass(frozen=True)
class Employee:
    technician_id: str
    name: str
    since: date
    primary: bool


@dataclass(frozen=True)
class PendingOfEmployee:
    request_id: str
    kind: str  # ManualEntry | Correction
    technician_id: str
    site_id: str
    work_date: date


def employees(source: Source, business_id: str, today: date) -> list[Employee]:
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT e.technician_id, w.name, MIN(e.since), MAX(CASE WHEN e.is_primary THEN 1 "
            "ELSE 0 END) FROM {worker_employments} e JOIN {workers} w "
            "ON w.technician_id = e.technician_id WHERE e.business_id = %s AND e.since <= %s "
            "AND (e.until IS NULL OR e.until >= %s) GROUP BY e.technician_id, w.name "
            "ORDER BY e.technician_id", [business_id, today, today])
    found = []
    for technician, name, since, primary in rows:
        day = as_date(since)
        assert day is not None
        found.append(Employee(str(technician), str(name), day, bool(primary)))
    return found


def pending_for_employer(source: Source, business_id: str) -> list[PendingOfEmployee]:
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT request_id, kind, technician_id, site_id, work_date FROM {requests} "
            "WHERE employer_business_id = %s AND status = 'pending' "
            "ORDER BY work_date, request_id", [business_id])
    found = []
    for request_id, kind, technician, site, work_date in rows:
        day = as_date(work_date)
        assert day is not None
        found.append(PendingOfEmployee(str(request_id), str(kind), str(technician), str(site),
                                       day))
    return found
