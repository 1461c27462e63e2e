"""作業員名簿: a worker's roster entries on a site (each as set, latest first), for the evidence
beside a request in the prime's inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from projections.queries._common import Source, reading
from projections.store import as_date


@dataclass(frozen=True)
class RosterEntry:
    site_id: str
    technician_id: str
    employer_business_id: str
    trade: str
    position: str
    since: date
    from_position: int  # the log position of the event that set it


def roster_entries(source: Source, site_id: str, technician_id: str) -> list[RosterEntry]:
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT employer_business_id, trade, role_position, since, from_position "
            "FROM {roster_history} WHERE site_id = %s AND technician_id = %s "
            "ORDER BY from_position DESC", [site_id, technician_id])
    entries = []
    for employer, trade, position, since, from_position in rows:
        day = as_date(since)
        assert day is not None
        entries.append(RosterEntry(site_id, technician_id, str(employer), str(trade),
                                   str(position), day, int(from_position)))
    return entries
