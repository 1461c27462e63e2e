"""作業員名簿: the roster as the gate sees it (each worker on a site's roster, their latest entry,
with their social-insurance status as recorded last and the entry checks' flags of their latest
tap at the site — `projections.tap_flags`), and a worker's roster entries on a site (each as set,
latest first), for the evidence beside a request in the prime's inbox."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

import orjson

from projections.queries._common import Source, reading
from projections.store import as_date, as_datetime

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


def site_roster(source: Source, site_id: str, employers: Collection[str] | None = None
                ) -> list[RosterLine]:
    """The site's roster; `employers`: only entries of these employers (a subcontractor's
    view: its tiers), None: all."""
    with reading(source) as tx:
        latest: dict[str, tuple[str, str, str, object]] = {}
        for worker, employer, trade, role, since in tx.execute(
                "SELECT technician_id, employer_business_id, trade, role_position, since "
                "FROM {roster_history} WHERE site_id = %s ORDER BY from_position", [site_id]):
            latest[worker] = (employer, trade, role, since)
        shown = sorted(w for w, entry in latest.items()
                       if employers is None or entry[0] in employers)
        lines = []
        for worker in shown:
            employer, trade, role, since = latest[worker]
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
            lines.append(RosterLine(
                worker, employer, trade, role, day, health, pension, employment,
                as_date(as_of), as_datetime(tap[0][0]) if tap else None, flags))
    return lines


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
