"""Quarantine: events the projection could not project, kept aside so that it goes on with the rest.

One event the projection cannot project (a value the write side once accepted and the read side
cannot hold, a handler's bug meeting a rare case) used to stop it for everyone, for good, with a
traceback a second. The runner now finds such an event by splitting its batch (`runner.py`),
stores it here with its log position, type and error, and moves past it. Nothing is skipped
silently: `/v1/ready` answers 503 while any event is quarantined, reads about its worker or site
say they may be incomplete, and `ledger quarantine list` / `retry` show and retry them.

A retry projects the event where it stands in the log when that is exact: a tap is judged by the
registries as they were at its own log position, and a request by its own row; both only add
facts from which the work records around their dates are recomputed, so the read model ends as a
rebuild would leave it. Any other event (a registration, an employment, a roster entry) is what
later events were judged against; projecting it late would leave those judgements as they were,
so its retry rebuilds the read models (`ledger replay`), which meets every quarantined event
again in log order.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import psycopg

from ledger import clock
from projections.projector import EVENT_CLASSES, NATURAL_KEYS, REQUEST_EVENTS, TAP_EVENTS
from projections.store import Tx, as_datetime

MESSAGE_CHARS = 2_000
# Failures of the database or the process, not of one event: they would fail for every event,
# and quarantining them would hide an outage behind a list of innocent events.
NOT_AN_EVENTS_FAULT: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,  # connection lost, deadlock, serialization failure, admin shutdown
    psycopg.InterfaceError,
    psycopg.ProgrammingError,  # a missing table or column: a migration not applied
    sqlite3.OperationalError,  # locked, no such table
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    MemoryError,
)
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_ID = re.compile(r"[A-Za-z0-9:_-]{1,64}")


def is_event_fault(error: BaseException) -> bool:
    """Whether a failure may be the event's own doing, so that the event may be quarantined."""
    return isinstance(error, Exception) and not isinstance(error, NOT_AN_EVENTS_FAULT)


class Undecodable(NamedTuple):
    """A stored event the projection could not even decode (an unknown topic, a bad upcast)."""

    position: int
    name: str  # the stored topic
    error: Exception


@dataclass(frozen=True)
class QuarantinedEvent:
    position: int
    event_type: str
    error_kind: str
    error_message: str
    technician_id: str | None
    site_id: str | None
    first_seen_at: datetime
    last_tried_at: datetime
    attempts: int


def describe(error: BaseException) -> tuple[str, str]:
    """(kind, message) of a failure, printable whatever the failing value held."""
    kind = type(error).__name__
    return kind, _printable(str(error))[:MESSAGE_CHARS]


def _printable(text: str) -> str:
    return _UNPRINTABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def quarantine(
    tx: Tx, position: int, event_type: str, state: dict[str, Any] | None, error: BaseException
) -> None:
    """Keep an event that failed to project, with the worker and site it is about if known."""
    technician_id, site_id = _affected(tx, event_type, state or {})
    kind, message = describe(error)
    now = clock.now()
    tx.execute(
        "INSERT INTO {quarantined_events} (position, event_type, error_kind, error_message, "
        "technician_id, site_id, first_seen_at, last_tried_at, attempts) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 1) ON CONFLICT (position) DO UPDATE SET "
        "error_kind = excluded.error_kind, error_message = excluded.error_message, "
        "last_tried_at = excluded.last_tried_at, "
        "attempts = {quarantined_events}.attempts + 1",
        [position, _printable(event_type), kind, message, technician_id, site_id, now, now],
    )


def _id(value: Any) -> str | None:
    """An ID from a failed event's state, only if it is one: the state may be the poison."""
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def _affected(tx: Tx, event_type: str, state: dict[str, Any]) -> tuple[str | None, str | None]:
    technician_id, site_id = _id(state.get("technician_id")), _id(state.get("site_id"))
    event_class = EVENT_CLASSES.get(event_type)  # None: an undecodable event's stored topic
    originator = state.get("originator_id")
    natural_key = NATURAL_KEYS.get(event_class) if event_class is not None else None
    if event_class in TAP_EVENTS:
        card_id, reader_id = _id(state.get("card_id")), _id(state.get("reader_id"))
        if technician_id is None and card_id is not None:
            technician_id = _first(tx, "SELECT technician_id FROM {card_registry} "
                                   "WHERE card_id = %s", card_id)
        if reader_id is not None:
            site_id = _first(tx, "SELECT site_id FROM {reader_registry} WHERE reader_id = %s",
                             reader_id)
    elif event_class in REQUEST_EVENTS and technician_id is None and originator is not None:
        rows = tx.execute("SELECT technician_id, site_id FROM {requests} WHERE request_id = %s",
                          [str(originator)])
        if rows:
            technician_id, site_id = rows[0][0], rows[0][1]
    elif natural_key is not None and originator is not None:
        key = _first(tx, "SELECT natural_key FROM {aggregate_keys} WHERE aggregate_id = %s",
                     str(originator))
        if natural_key[1] == "technician_id":
            technician_id = technician_id or key
        elif natural_key[1] == "site_id":
            site_id = site_id or key
    return technician_id, site_id


def _first(tx: Tx, sql: str, value: str) -> str | None:
    rows = tx.execute(sql, [value])
    return None if not rows or rows[0][0] is None else str(rows[0][0])


_COLUMNS = ("position, event_type, error_kind, error_message, technician_id, site_id, "
            "first_seen_at, last_tried_at, attempts")


def _row(row: Sequence[Any]) -> QuarantinedEvent:
    first_seen, last_tried = as_datetime(row[6]), as_datetime(row[7])
    assert first_seen is not None and last_tried is not None  # NOT NULL columns
    return QuarantinedEvent(int(row[0]), row[1], row[2], row[3], row[4], row[5],
                            first_seen, last_tried, int(row[8]))


def quarantined(tx: Tx, position: int | None = None) -> list[QuarantinedEvent]:
    """The quarantined events in log order (or the one at ``position``)."""
    where, params = ("WHERE position = %s", [position]) if position is not None else ("", [])
    rows = tx.execute(f"SELECT {_COLUMNS} FROM {{quarantined_events}} {where} ORDER BY position",
                      params)
    return [_row(row) for row in rows]


# Every quarantined event's worker and site, for the API's reads to check theirs against.
QUARANTINED_ABOUT = ("SELECT position, technician_id, site_id FROM {quarantined_events} "
                     "WHERE technician_id IS NOT NULL OR site_id IS NOT NULL")
