"""作業員名簿: the roster as the gate sees it (each worker on a site's roster, their latest entry,
with their social-insurance status as recorded last and the entry checks' flags of their latest
tap at the site — `projections.tap_flags`), and a worker's roster entries on a site (each as set,
latest first), for the evidence beside a request in the prime's inbox."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

import orjson

from projections.queries._common import Source, reading, values_filter
from projections.queries.paging import Keyset
from projections.store import Tx, as_date, as_datetime

ENTRY_FLAGS = frozenset({"not_on_roster", "insurance_unconfirmed", "insurance_not_enrolled",
                         "qualification_missing", "qualification_expired"})


@dataclass(frozen=True)
class RosterLine:
    technician_id: str
    employer_business_id: str
    trade: str
    position: str
    since: date
    health: str  # 社会保険: as recorded last (by its as_of date), "unconfirmed" if never
    pension: str
    employment: str
    insurance_as_of: date | None
    last_tap_at: datetime | None  # the reader's time of the latest tap at the site
    entry_flags: tuple[str, ...]  # that tap's entry-check flags


def site_roster_page(source: Source, site_id: str, page: Keyset,
                     employers: Collection[str] | None = None) -> list[RosterLine]:
    """A page of the site's roster in SQL: each worker's latest entry (keyset on technician_id
    over the roster's primary key); `employers`: only entries of these employers (a
    subcontractor's view: its tiers), None: all, in the WHERE. Insurance and the latest tap are
    looked up for the page's workers only."""
    after, tail, keyset_params = page.clauses(("r.technician_id",))
    with reading(source) as tx:
        shown_sql, shown_params = values_filter(tx, "r.employer_business_id", employers)
        rows = tx.execute(
            "SELECT r.technician_id, r.employer_business_id, r.trade, r.role_position, r.since "
            "FROM {roster_history} r WHERE r.site_id = %s AND r.from_position = "
            "(SELECT MAX(x.from_position) FROM {roster_history} x WHERE x.site_id = r.site_id "
            f"AND x.technician_id = r.technician_id){shown_sql}{after}{tail}",
            [site_id, *shown_params, *keyset_params])
        return [_line(tx, site_id, *row) for row in rows]


def _line(tx: Tx, site_id: str, worker: str, employer: str, trade: str, role: str,
          since: object) -> RosterLine:
    """A worker's roster line: their entry, insurance as recorded last, their latest tap."""
    insurance = tx.execute(
        "SELECT health, pension, employment, as_of FROM {worker_insurance_history} "
        "WHERE technician_id = %s ORDER BY as_of DESC, position DESC LIMIT 1", [worker])
    tap = tx.execute(
        "SELECT reader_time, flags FROM {tap_facts} WHERE technician_id = %s "
        "AND site_id = %s ORDER BY position DESC LIMIT 1", [worker, site_id])
    health, pension, employment, as_of = (insurance[0] if insurance else
                                          ("unconfirmed",) * 3 + (None,))
    flags = tuple(f for f in orjson.loads(tap[0][1]) if f in ENTRY_FLAGS) if tap else ()
    day = as_date(since)
    assert day is not None
    return RosterLine(worker, employer, trade, role, day, health, pension, employment,
                      as_date(as_of), as_datetime(tap[0][0]) if tap else None, flags)


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
