"""The audit trail: the stored events behind a work record, and the global log page by page.

Every read-model row names the log positions of the events it came from; this module reads those
events back from the event store itself (not from the read model), so an auditor sees what was
recorded — who, when, about when, and why — rather than what a projection made of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import orjson

from ledger.application import Ledger
from projections.queries._common import Source, reading

MAX_PAGE = 1000
# The business time an event is about, by the first of these attributes it has.
_BUSINESS_TIME = ("reader_time", "decided_at", "work_date", "since", "until", "acquired_on",
                  "completed_on", "opened_on", "closed_on", "as_of", "certified_on")


@dataclass(frozen=True)
class AuditEntry:
    position: int  # notification ID: the event's place in the log
    event_type: str  # e.g. Tap.Recorded, ManualEntry.Rejected
    originator_id: UUID  # the aggregate (tap, request, worker …) it belongs to
    actor: str | None  # role:id
    recorded_at: datetime  # when the ledger stored it
    business_time: datetime | date | None  # the moment or date it is about
    reason: str | None  # rejections, corrections, retirements, revocations


def audit_work_record(
    ledger: Ledger, tx: Source, technician_id: str, site_id: str, work_date: date
) -> list[AuditEntry]:
    """The events behind one work record, in log order; empty when there is no such record."""
    with reading(tx) as read:
        rows = read.execute("SELECT event_positions FROM {work_records} WHERE technician_id = %s "
                            "AND site_id = %s AND work_date = %s",
                            [technician_id, site_id, work_date])
    if not rows:
        return []
    entries = []
    for position in sorted(orjson.loads(rows[0][0])):
        notifications = ledger.recorder.select_notifications(start=position, limit=1)
        if not notifications or notifications[0].id != position:
            raise LookupError(f"log position {position} behind a work record is not in the log")
        entries.append(audit_entry(ledger, position, notifications[0]))
    return entries


def events_after(ledger: Ledger, position: int, limit: int = 100) -> list[AuditEntry]:
    """The global log after ``position``, at most ``limit`` (≤ 1000) events: the auditor's pages.
    The next page starts after the last entry's position."""
    page = ledger.recorder.select_notifications(
        start=position, limit=max(1, min(limit, MAX_PAGE)), inclusive_of_start=False)
    return [audit_entry(ledger, notification.id, notification) for notification in page]


def audit_entry(ledger: Ledger, position: int, stored: Any) -> AuditEntry:
    event: Any = ledger.mapper.to_domain_event(stored)  # attributes differ by event type
    actor = getattr(event, "actor", None)
    reason = getattr(event, "reason", None)
    return AuditEntry(
        position=position,
        event_type=type(event).__qualname__,
        originator_id=event.originator_id,
        actor=None if actor is None else str(actor),
        recorded_at=event.timestamp,
        business_time=_business_time(event),
        reason=None if reason is None else str(reason),
    )


def _business_time(event: object) -> datetime | date | None:
    for name in _BUSINESS_TIME:
        value = getattr(event, name, None)
        if isinstance(value, date):  # datetime is a date too
            return value
    return None
