"""一日一掛金 — which record carries a worker-day's one contribution, and what each record's day is.

A worker-day (technician × work date) is paid once, whatever the sites or methods
(a-kenkyo.or.jp, denshi_qanda). Project rule (DESIGN.md §2): among the worker's **counted** records
on that date, the one with the earliest first entry carries it; a record with an entry time precedes
one without (a manual entry may have none); remaining ties go to the lower site ID. The carrier is
chosen from the records alone, before any eligibility check, so it never depends on enrollment data
or on the order the records arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from ledger.domain.site import KentaikyoMethod
from projections.kentaikyo.errors import DuplicateWorkRecord, NaiveEntryTime
from projections.kentaikyo.rates import daily_rate
from projections.kentaikyo.sites import SiteInfo
from projections.records import WorkRecord

WorkerDay = tuple[str, date]
"""(technician_id, work_date): the unit a contribution is paid for."""

_NO_ENTRY = datetime.min.replace(tzinfo=UTC)  # stands in for a missing entry (see _entry_order)


class Ineligibility(StrEnum):
    """Why a counted record's day earns no points. Checked in this order; the first applies."""

    NOT_ENROLLED = "not_enrolled"  # 被共済者でない (no Kentaikyo member number)
    BEFORE_ENROLLMENT = "before_enrollment"  # 被共済者になる前の日
    STAMP_SITE = "stamp_site"  # 証紙貼付方式の現場: paid with stamps, not points
    NO_EMPLOYER = "no_employer"  # the record names no 所属事業者
    EMPLOYER_NOT_ON_SITE = "employer_not_on_site"  # employer absent from the site's 施工体制
    EMPLOYER_NOT_ENROLLED = "employer_not_enrolled"  # not a 共済契約者 on that date


@dataclass(frozen=True)
class Eligible:
    work_date: date
    points_yen: int
    event_positions: tuple[int, ...]


@dataclass(frozen=True)
class NotEligible:
    work_date: date
    reason: Ineligibility
    event_positions: tuple[int, ...]


@dataclass(frozen=True)
class AlreadyCovered:
    """The worker-day is carried by another record: `carrying_site_id`'s (which may itself be a
    stamp site, or not eligible — follow its positions to see which)."""

    work_date: date
    carrying_site_id: str
    event_positions: tuple[int, ...]
    carrying_event_positions: tuple[int, ...]


DayOutcome = Eligible | NotEligible | AlreadyCovered


def carriers(records: Iterable[WorkRecord]) -> dict[WorkerDay, WorkRecord]:
    """The record carrying each worker-day, among counted records; others are ignored entirely."""
    chosen: dict[WorkerDay, WorkRecord] = {}
    seen: set[tuple[str, date, str]] = set()
    for record in records:
        if not record.counted:
            continue
        key = (record.technician_id, record.work_date, record.site_id)
        if key in seen:
            raise DuplicateWorkRecord(record.technician_id, record.site_id, record.work_date)
        seen.add(key)
        day = (record.technician_id, record.work_date)
        current = chosen.get(day)
        if current is None or _entry_order(record) < _entry_order(current):
            chosen[day] = record
    return chosen


def judge_day(
    record: WorkRecord,
    carrier: WorkRecord,
    worker_enrolled_on: date | None,
    employer_enrolled_on: date | None,
    site: SiteInfo,
) -> DayOutcome:
    """What one counted record's day is worth. `carrier` is `carriers(...)` for its worker-day.

    Worker checks come first: a non-member's day is never covered by anyone, so every one of its
    records says why (rather than "already covered"). Then the carrier rule: only the carrier can
    pay. A stamp-site carrier covers the day with stamps (証紙), so an electronic site's later
    record on that day does **not** pay — it shows "already covered" by the stamp site; likewise
    a carrier whose employer is not a 共済契約者 leaves the day unpaid rather than handing it to
    the next site: the earliest entry carries it (DESIGN.md §2), and one rule that reads only the
    records lets every reader (report, attendance view, auditor) name the same carrier.
    """
    positions = record.event_positions
    day = record.work_date
    if worker_enrolled_on is None:
        return NotEligible(day, Ineligibility.NOT_ENROLLED, positions)
    if day < worker_enrolled_on:
        return NotEligible(day, Ineligibility.BEFORE_ENROLLMENT, positions)
    if carrier.site_id != record.site_id:
        return AlreadyCovered(day, carrier.site_id, positions, carrier.event_positions)
    reason = _employer_or_site_reason(record, employer_enrolled_on, site)
    if reason is not None:
        return NotEligible(day, reason, positions)
    return Eligible(day, daily_rate(day), positions)


def _employer_or_site_reason(
    record: WorkRecord, employer_enrolled_on: date | None, site: SiteInfo
) -> Ineligibility | None:
    if site.method is not KentaikyoMethod.ELECTRONIC:
        return Ineligibility.STAMP_SITE
    employer = record.employer_business_id
    if employer is None:
        return Ineligibility.NO_EMPLOYER
    if not site.on_structure(employer):
        return Ineligibility.EMPLOYER_NOT_ON_SITE
    if employer_enrolled_on is None or record.work_date < employer_enrolled_on:
        return Ineligibility.EMPLOYER_NOT_ENROLLED
    return None


def _entry_order(record: WorkRecord) -> tuple[bool, datetime, str]:
    entry = record.first_entry
    if entry is None:
        # The leading True sorts it after every timed entry; the placeholder only meets other
        # placeholders, so the site ID decides between untimed records.
        return (True, _NO_ENTRY, record.site_id)
    if entry.utcoffset() is None:
        raise NaiveEntryTime(record.technician_id, record.site_id, record.work_date)
    return (False, entry, record.site_id)
