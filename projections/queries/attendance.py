"""出面 — who was on a site on a day, by employer and subcontract tier; who is on site now; and
entries never closed by an exit.

Attendance lists counted records and pending manual entries (each with its status); rejected and
expired entries were never attendance. Tier 0 is the prime, 1 its direct subcontractors, and so on
(site_structure); an employer not on the site's structure has tier ``None``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from ledger import clock
from projections.queries._common import (
    SOURCES,
    STATUSES,
    Source,
    json_tuple,
    reading,
    values_filter,
)
from projections.queries.paging import Keyset
from projections.records import RecordSource, RecordStatus
from projections.store import Tx, as_date, as_datetime

MAX_SHIFT = timedelta(hours=24)  # as LedgerProjection: an exit within this closes the entry

_SELECT = (
    "SELECT w.technician_id, k.name, w.site_id, w.work_date, w.employer_business_id, b.name, "
    "t.tier, t.parent_business_id, w.trade, w.role_position, w.first_entry, w.last_exit, "
    "w.status, w.source, w.flags, w.event_positions FROM {work_records} w "
    "LEFT JOIN {workers} k ON k.technician_id = w.technician_id "
    "LEFT JOIN {businesses} b ON b.business_id = w.employer_business_id "
    "LEFT JOIN {site_structure} t ON t.site_id = w.site_id "
    "AND t.business_id = w.employer_business_id WHERE w.site_id = %s "
)


@dataclass(frozen=True)
class Attendance:
    """One worker on one site on one work date."""

    technician_id: str
    worker_name: str | None
    site_id: str
    work_date: date
    employer_business_id: str | None
    employer_name: str | None
    tier: int | None
    parent_business_id: str | None  # the employer's upper business on the site
    trade: str | None
    position: str | None
    first_entry: datetime | None
    last_exit: datetime | None
    status: RecordStatus
    source: RecordSource
    flags: tuple[str, ...]
    event_positions: tuple[int, ...]
    # A missing exit the site's staff resolved (the latest decision): exit_at as they stated it
    # (None: left at a time unknown), reason, resolved_by, resolved_at, position. Never a tap.
    exit_resolution: Mapping[str, Any] | None = None

    @property
    def minutes_on_site(self) -> int | None:
        if self.first_entry is None or self.last_exit is None:
            return None
        return int((self.last_exit - self.first_entry).total_seconds() // 60)


@dataclass(frozen=True)
class SiteAttendance:
    site_id: str
    work_date: date
    rows: tuple[Attendance, ...]  # by tier, employer, entry time

    @property
    def headcount(self) -> int:
        return len(self.rows)

    @property
    def by_employer(self) -> Mapping[str | None, tuple[Attendance, ...]]:
        groups: dict[str | None, tuple[Attendance, ...]] = {}
        for row in self.rows:
            groups[row.employer_business_id] = (*groups.get(row.employer_business_id, ()), row)
        return MappingProxyType(groups)

    @property
    def by_tier(self) -> Mapping[int | None, tuple[Attendance, ...]]:
        groups: dict[int | None, tuple[Attendance, ...]] = {}
        for row in self.rows:
            groups[row.tier] = (*groups.get(row.tier, ()), row)
        return MappingProxyType(groups)


def site_attendance(source: Source, site_id: str, work_date: date) -> SiteAttendance:
    with reading(source) as tx:
        rows = _select(tx, "AND w.work_date = %s AND w.status IN ('counted', 'pending')",
                       [site_id, work_date])
    return SiteAttendance(site_id, work_date, tuple(sorted(rows, key=_attendance_order)))


def on_site_now(
    source: Source, site_id: str, now: datetime | None = None, max_shift: timedelta = MAX_SHIFT
) -> list[Attendance]:
    """Workers with an entry and no exit yet: today's (JST) records, and an overnight shift begun
    yesterday while it can still be closed (within ``max_shift`` of its entry)."""
    now = now or clock.now()
    today = clock.work_date_of(now)
    with reading(source) as tx:
        rows = _select(tx, _OPEN + "AND w.work_date >= %s AND w.work_date <= %s",
                       [site_id, today - timedelta(days=1), today])
    return sorted((row for row in rows if _still_open(row, now, max_shift)), key=_attendance_order)


def missing_exits(
    source: Source, site_id: str, date_from: date, date_to: date,
    now: datetime | None = None, max_shift: timedelta = MAX_SHIFT,
) -> list[Attendance]:
    """Past days' counted records with an entry and no exit, that no exit can close any more."""
    now = now or clock.now()
    today = clock.work_date_of(now)
    last = min(date_to, today - timedelta(days=1))
    with reading(source) as tx:
        rows = _select(tx, _OPEN + "AND w.work_date >= %s AND w.work_date <= %s",
                       [site_id, date_from, last])
        resolved = _exit_resolutions(tx, site_id, date_from, last)
    return sorted((replace(row, exit_resolution=resolved.get((row.technician_id, row.work_date)))
                   for row in rows if not _still_open(row, now, max_shift)),
                  key=lambda row: (row.work_date, _attendance_order(row)))


def _exit_resolutions(
    tx: Tx, site_id: str, date_from: date, date_to: date
) -> dict[tuple[str, date], Mapping[str, Any]]:
    """The latest staff decision per worker and date (`Site.MissingExitResolved`)."""
    latest: dict[tuple[str, date], Mapping[str, Any]] = {}
    for technician_id, work_date, exit_at, reason, by, at, position in tx.execute(
        "SELECT technician_id, work_date, exit_at, reason, resolved_by, resolved_at, position "
        "FROM {exit_resolutions} WHERE site_id = %s AND work_date >= %s AND work_date <= %s "
        "ORDER BY position", [site_id, date_from, date_to],
    ):
        day = as_date(work_date)
        assert day is not None
        latest[(technician_id, day)] = {
            "exit_at": as_datetime(exit_at), "time_unknown": exit_at is None, "reason": reason,
            "resolved_by": by, "resolved_at": as_datetime(at), "position": int(position)}
    return latest


# Pages of the lists above, in SQL: keyset on (work_date, technician_id) of the site's index,
# the caller's employers (a subcontractor's tiers; None: every row) in the WHERE clause, so a page
# reads its own rows and never skips hidden ones in Python. An open entry's rows come from the
# partial index of open entries (migration 0021): few on any site, however long its history.

PAGE_ORDER = ("w.work_date", "w.technician_id")
_DAY = "AND w.work_date <= %s AND w.status IN ('counted', 'pending') "  # from the day: `start`


@dataclass(frozen=True)
class AttendancePage:
    rows: list[Attendance]  # in (work_date, technician_id) order, at most the page's limit + 1
    headcount: int  # rows of the whole list the caller may see (every page)


def site_attendance_page(
    source: Source, site_id: str, work_date: date, page: Keyset,
    employers: Collection[str] | None = None,
) -> AttendancePage:
    """A page of `site_attendance`: who was on the site on the day. The headcount counts the
    day's rows in the index: as many as were on the site that day, not the site's history."""
    with reading(source) as tx:
        return _page(tx, _DAY, [site_id, work_date], page, employers, work_date)


def on_site_now_page(
    source: Source, site_id: str, page: Keyset, employers: Collection[str] | None = None,
    now: datetime | None = None, max_shift: timedelta = MAX_SHIFT,
) -> AttendancePage:
    """A page of `on_site_now`."""
    now = now or clock.now()
    today = clock.work_date_of(now)
    with reading(source) as tx:
        return _page(tx, _OPEN + "AND w.work_date <= %s AND w.first_entry >= %s ",
                     [site_id, today, now - max_shift], page, employers,
                     today - timedelta(days=1))


def missing_exits_page(
    source: Source, site_id: str, date_from: date, date_to: date, page: Keyset,
    employers: Collection[str] | None = None,
    now: datetime | None = None, max_shift: timedelta = MAX_SHIFT,
) -> AttendancePage:
    """A page of `missing_exits`, each row with the staff's latest decision on it."""
    now = now or clock.now()
    last = min(date_to, clock.work_date_of(now) - timedelta(days=1))
    with reading(source) as tx:
        found = _page(tx, _OPEN + "AND w.work_date <= %s AND w.first_entry < %s ",
                      [site_id, last, now - max_shift], page, employers, date_from)
        if not found.rows:
            return found
        resolved = _exit_resolutions(tx, site_id, found.rows[0].work_date,
                                     found.rows[-1].work_date)
    return replace(found, rows=[
        replace(row, exit_resolution=resolved.get((row.technician_id, row.work_date)))
        for row in found.rows])


def _page(
    tx: Tx, where: str, params: Sequence[Any], page: Keyset,
    employers: Collection[str] | None, first_day: date,
) -> AttendancePage:
    """A page of the site's rows `where` says, from `first_day` on, and the count of them all."""
    shown_sql, shown_params = values_filter(tx, "w.employer_business_id", employers)
    after, tail, keyset_params = page.clauses(PAGE_ORDER, first_day)
    rows = _select(tx, where + shown_sql + after + tail, [*params, *shown_params,
                                                          *keyset_params])
    counted = tx.execute("SELECT COUNT(*) FROM {work_records} w WHERE w.site_id = %s "
                         "AND w.work_date >= %s " + where + shown_sql,
                         [params[0], first_day, *params[1:], *shown_params])
    return AttendancePage(rows, int(counted[0][0]))


_OPEN = ("AND w.status = 'counted' AND w.first_entry IS NOT NULL AND w.last_exit IS NULL ")


def _still_open(row: Attendance, now: datetime, max_shift: timedelta) -> bool:
    assert row.first_entry is not None  # an entry ahead of `now` (reader clock skew) is open too
    return now - row.first_entry <= max_shift


def _select(tx: Tx, where: str, params: Sequence[Any]) -> list[Attendance]:
    return [_attendance(row) for row in tx.execute(_SELECT + where, params)]


def _attendance(row: Sequence[Any]) -> Attendance:
    work_date = as_date(row[3])
    assert work_date is not None
    return Attendance(
        technician_id=row[0], worker_name=row[1], site_id=row[2], work_date=work_date,
        employer_business_id=row[4], employer_name=row[5], tier=row[6],
        parent_business_id=row[7], trade=row[8], position=row[9],
        first_entry=as_datetime(row[10]), last_exit=as_datetime(row[11]),
        status=STATUSES[row[12]], source=SOURCES[row[13]],
        flags=json_tuple(row[14]), event_positions=json_tuple(row[15]),
    )


def _attendance_order(row: Attendance) -> tuple[Any, ...]:
    entry = row.first_entry.timestamp() if row.first_entry else float("inf")
    return (row.tier is None, row.tier or 0, row.employer_business_id or "", entry,
            row.technician_id)
