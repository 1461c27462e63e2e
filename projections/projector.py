"""The ledger projection: registries, taps, requests and work records, one batch at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import orjson
from eventsourcing.domain import Aggregate, CanMutateAggregate

from ledger.domain.business import Business
from ledger.domain.kentaikyo_account import KentaikyoAccount
from ledger.domain.phone import PhoneDevice, PhoneTap, SiteArea
from ledger.domain.registry import Card, Reader
from ledger.domain.requests import ApprovableRequest, Correction, ManualEntry, RequestStatus
from ledger.domain.settlement import (
    DailySeal,
    DayClose,
    KentaikyoSettlement,
    SealKeys,
    SiteFeeAccount,
)
from ledger.domain.site import Site
from ledger.domain.taps import Direction, Tap, content_hash
from ledger.domain.worker import Worker
from projections.decoding import TAP_RECORDED, EventClass, LoggedEvent
from projections.derive import TapFact
from projections.entry_checks import entry_facts
from projections.kentaikyo_accounts import account_opened as _accounts_registered  # noqa: F401
from projections.registry import HANDLERS
from projections.resolutions import assign_unknown_card
from projections.store import Tx
from projections.tap_flags import NO_ENTRY_FACTS, CardRow, ReaderRow, entry_pair, judge
from projections.work_records import DATED_REGISTRY_EVENTS, Pair, WorkRecords, counts
from projections.working_time.handlers import EVENTS as WORKING_TIME_EVENTS
from projections.working_time.handlers import Reports

# The projection dispatches on the domain's event classes, as the library's `Projection` does,
# each in one of the tables below (the registries' handlers in `projections.registry.HANDLERS`).
# tests/unit/test_projector_dispatch.py fails for an event class in none of them.


def events_of(aggregate: type[Aggregate]) -> list[EventClass]:
    """The event classes an aggregate declares (the library's per-aggregate ``Event`` and
    ``Created`` bases included: never stored as such, they cost nothing here)."""
    return [value for value in vars(aggregate).values()
            if isinstance(value, type) and issubclass(value, CanMutateAggregate)]


# A resend with other content (ConflictingObservation) goes with the taps: it is listed in the
# site's exceptions only.
# A phone's tap (PhoneTap.Recorded, スマホ入場) is a tap like a card's, judged by the same rule.
PHONE_TAP_RECORDED: EventClass = PhoneTap.Recorded  # type: ignore[attr-defined]
TAP_EVENTS: frozenset[EventClass] = frozenset(
    {TAP_RECORDED, Tap.ConflictingObservation, PHONE_TAP_RECORDED})
# Requests and their decisions: (the kind the requests table keeps, the status a decision
# sets; None for the request itself). Decisions are declared on the shared base class, which
# the library declares again on each subclass.
_REQUESTS: tuple[type[ApprovableRequest], ...] = (ApprovableRequest, ManualEntry, Correction)
REQUEST_EVENTS: dict[EventClass, tuple[str, str | None]] = {
    ManualEntry.Requested: (ManualEntry.__name__, None),  # type: ignore[attr-defined]
    Correction.Requested: (Correction.__name__, None),  # type: ignore[attr-defined]
    **{
        decision: (request.__name__, status.value)
        for request in _REQUESTS
        for decision, status in (
            (request.Approved, RequestStatus.APPROVED),  # type: ignore[attr-defined]
            (request.Rejected, RequestStatus.REJECTED),  # type: ignore[attr-defined]
            (request.Expired, RequestStatus.EXPIRED),  # type: ignore[attr-defined]
        )
    },
}
# After the batch's taps (see `process`).
ASSIGNMENT: EventClass = Site.UnknownCardAssigned  # type: ignore[attr-defined]
# Aggregates whose later events carry only the aggregate's UUID: the projection remembers the
# natural key from the created event and gives it back to the handlers.
KEY_FIELDS: dict[type[Aggregate], str] = {
    Business: "business_id",
    Worker: "technician_id",
    Site: "site_id",
    Reader: "reader_id",
    Card: "card_id",
    KentaikyoAccount: "business_id",
}
# Each of their event classes → (the aggregate's kind, as aggregate_keys keeps it; the field).
NATURAL_KEYS: dict[EventClass, tuple[str, str]] = {
    event_class: (aggregate.__name__, field)
    for aggregate, field in KEY_FIELDS.items()
    for event_class in events_of(aggregate)
}
# Stored events the ledger projection deliberately leaves alone, and why.
_NIGHTLY = "a nightly job's own fact: the jobs and their own projection read it"
IGNORED: dict[EventClass, str] = {
    DayClose.Closed: _NIGHTLY,  # type: ignore[attr-defined]
    KentaikyoSettlement.Issued: _NIGHTLY,
    SiteFeeAccount.Opened: _NIGHTLY,  # type: ignore[attr-defined]
    SiteFeeAccount.MonthBilled: _NIGHTLY,  # type: ignore[attr-defined]
    DailySeal.Sealed: _NIGHTLY,
    SealKeys.Started: _NIGHTLY,
    SealKeys.Rotated: _NIGHTLY,
    # The write side checks a phone's position against the area when the tap comes and stores
    # the result in the tap's event: the read side needs the flag, not the area.
    SiteArea.Started: "a site's phone-entry area: judged on the write side, into the tap",  # type: ignore[attr-defined]
    SiteArea.Set: "a site's phone-entry area: judged on the write side, into the tap",  # type: ignore[attr-defined]
    # A tap's passkey is checked when it is recorded; a phone revoked later keeps its taps.
    PhoneDevice.Registered: "a worker's phone (passkey): checked on the write side",  # type: ignore[attr-defined]
    PhoneDevice.Revoked: "a worker's phone (passkey): checked on the write side",  # type: ignore[attr-defined]
}
# Every event class the projection projects.
PROJECTED: frozenset[EventClass] = frozenset(
    {*TAP_EVENTS, *REQUEST_EVENTS, ASSIGNMENT, *HANDLERS, *WORKING_TIME_EVENTS})
# By name, for what is kept as a name (a quarantined event's type).
EVENT_CLASSES: dict[str, EventClass] = {
    event_class.__qualname__: event_class
    for event_class in (*PROJECTED, *IGNORED, *NATURAL_KEYS)
}

def phone_of(state: dict[str, Any]) -> tuple[str, tuple[str, ...]] | None:
    """A phone tap's (gate code's site, stored phone flags), as `judge` takes it; None for a
    card tap."""
    if "phone_flags" not in state:
        return None
    return state["site_id"], tuple(state["phone_flags"])


DIRECTION_VALUES = {member: member.value for member in Direction}  # faster than .value, per tap
TAP_FACT_TYPES = (*["text"] * 6, "timestamptz", "timestamptz", "int8", "text")

Batch = Sequence[LoggedEvent]


class UnprojectableEvent(TypeError):
    """A stored event of a class the projection neither projects nor ignores."""


class LedgerProjection:
    name = "ledger"

    def __init__(self, max_shift: timedelta = timedelta(hours=24)) -> None:
        self.max_shift = max_shift
        self.work_records = WorkRecords(max_shift)

    # The runner tells where each batch starts and whether it committed: what the projection
    # keeps between batches is only true at the position it was kept at.
    def begin(self, position: int) -> None:
        self.work_records.begin(position)

    def committed(self, position: int) -> None:
        self.work_records.committed(position)

    def forget(self) -> None:
        self.work_records.forget()

    def process(self, tx: Tx, batch: Batch) -> None:
        taps: list[tuple[int, dict[str, Any]]] = []
        affected: dict[Pair, set[date]] = defaultdict(set)
        changed_workers: set[str] = set()  # what their kept facts hold may have changed
        redated_workers: set[str] = set()  # their stored records may have changed too
        assignments: list[tuple[int, dict[str, Any]]] = []
        reports = Reports()  # working time: written in bulk at the batch's end
        for position, event_class, state in batch:
            if event_class in TAP_EVENTS:
                taps.append((position, state))
            elif event_class in WORKING_TIME_EVENTS:
                reports.add(position, event_class, state)
            elif event_class in REQUEST_EVENTS:
                kind, status = REQUEST_EVENTS[event_class]
                changed_workers.add(self._request(tx, position, kind, status, state, affected))
            else:
                key = NATURAL_KEYS.get(event_class)
                if key is not None:
                    self._natural_key(tx, key, position, state)
                handler = HANDLERS.get(event_class)
                if handler is not None:
                    handler(tx, position, state)
                elif event_class is ASSIGNMENT:
                    assignments.append((position, state))
                elif event_class not in IGNORED:  # loud: the runner quarantines it
                    raise UnprojectableEvent(
                        f"no projection of {event_class.__module__}.{event_class.__qualname__}")
                if state.get("technician_id"):  # roster, employments, cards: a worker's registry
                    changed_workers.add(state["technician_id"])
                    if event_class in DATED_REGISTRY_EVENTS:
                        redated_workers.add(state["technician_id"])
        # Even in a batch that touches no record: the worker's next taps are built from the
        # registry as it is now, not as the kept facts knew it.
        self.work_records.registry_changed(tx, changed_workers, redated_workers, affected)
        new_taps = self._taps(tx, taps, affected) if taps else []
        # After this batch's taps are stored: a decision covers the taps logged before it, and
        # some of them may have come in this very batch.
        for position, state in assignments:
            assign_unknown_card(tx, position, state, affected)
        if affected:
            self.work_records.rebuild(tx, affected, new_taps)
        reports.flush(tx)

    @staticmethod
    def _natural_key(
        tx: Tx, key: tuple[str, str], position: int, state: dict[str, Any]
    ) -> None:
        kind, field = key
        aggregate_id = str(state["originator_id"])
        if field in state:
            tx.execute(
                "INSERT INTO {aggregate_keys} (aggregate_id, kind, natural_key) "
                "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                [aggregate_id, kind, state[field]],
            )
        else:
            rows = tx.execute(
                "SELECT natural_key FROM {aggregate_keys} WHERE aggregate_id = %s", [aggregate_id]
            )
            state[field] = rows[0][0] if rows else None

    @staticmethod
    def _request(
        tx: Tx,
        position: int,
        kind: str,
        status: str | None,
        state: dict[str, Any],
        affected: dict[Pair, set[date]],
    ) -> str:
        """Store a request (``status`` None) or its decision; return the worker it is about."""
        request_id = str(state["originator_id"])
        if status is None:
            payload_keys = (
                "trade",
                "position",
                "work_content",
                "entry_at",
                "exit_at",
                "note",
                "changes",
                "reason",
            )
            payload = {key: state[key] for key in payload_keys if key in state}
            tx.execute(
                "INSERT INTO {requests} (request_id, kind, technician_id, site_id, work_date, "
                "employer_business_id, prime_business_id, payload, status, requested_by, "
                "requested_at, positions) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, 'pending', %s, %s, %s)",
                [
                    request_id,
                    kind,
                    state["technician_id"],
                    state["site_id"],
                    state["work_date"],
                    state["employer_business_id"],
                    state["prime_business_id"],
                    orjson.dumps(payload).decode(),
                    str(state["actor"]),
                    state["requested_at"],
                    orjson.dumps([position]).decode(),
                ],
            )
            affected[(state["technician_id"], state["site_id"])].add(state["work_date"])
            return str(state["technician_id"])
        rows = tx.execute(
            "SELECT technician_id, site_id, work_date, positions FROM {requests} "
            "WHERE request_id = %s",
            [request_id],
        )
        technician_id, site_id, work_date, positions = rows[0]
        tx.execute(
            "UPDATE {requests} SET status = %s, reason = %s, decided_by = %s, "
            "decided_at = %s, positions = %s WHERE request_id = %s",
            [
                status,
                state.get("reason"),
                str(state["actor"]),
                state["decided_at"],
                orjson.dumps([*orjson.loads(positions), position]).decode(),
                request_id,
            ],
        )
        affected[(technician_id, site_id)].add(date.fromisoformat(str(work_date)))
        return str(technician_id)

    @staticmethod
    def _taps(
        tx: Tx, taps: list[tuple[int, dict[str, Any]]], affected: dict[Pair, set[date]]
    ) -> list[tuple[str, str, TapFact]]:
        """Resolve and store the taps; return those that count, for the work records.

        Each tap is judged by the rule its upload was answered by (`tap_flags.judge`), with the
        registries at its position. A ``Tap.ConflictingObservation`` (it has a
        ``stored_content_hash``) is listed in the site's exceptions only: it is not a tap fact
        and makes no work record."""
        readers = sorted({s["reader_id"] for _, s in taps})
        cards = sorted({s["card_id"] for _, s in taps if s.get("card_id")})
        reader_in, reader_params = tx.is_in("reader_id", readers)
        reader_rows: dict[str, ReaderRow] = {
            r[0]: (r[1], r[2], r[3])
            for r in tx.execute(
                "SELECT reader_id, site_id, registered_at_position, retired_at_position "
                f"FROM {{reader_registry}} WHERE {reader_in}",
                reader_params,
            )
        }
        card_in, card_params = tx.is_in("card_id", cards)
        card_rows: dict[str, CardRow] = (
            {
                r[0]: (r[1], r[2], r[3])
                for r in tx.execute(
                    "SELECT card_id, technician_id, issued_at_position, revoked_at_position "
                    f"FROM {{card_registry}} WHERE {card_in}",
                    card_params,
                )
            }
            if cards
            else {}
        )
        entries = entry_facts(tx, {
            pair for position, s in taps if (pair := entry_pair(
                position, s["technician_id"], reader_rows.get(s["reader_id"]),
                card_rows.get(s.get("card_id") or ""), phone_of(s))) is not None})
        facts, exceptions, counted = [], [], []
        for position, s in taps:
            conflict = "stored_content_hash" in s
            phone = phone_of(s)
            card_id = s.get("card_id")
            reader, card = reader_rows.get(s["reader_id"]), card_rows.get(card_id or "")
            pair = (entry_pair(position, s["technician_id"], reader, card, phone) if entries
                    else None)
            site_id, technician_id, flags = judge(
                position, s["technician_id"], s["reader_time"], s["received_at"],
                reader, card, conflict,
                entries.get(pair, NO_ENTRY_FACTS) if pair else NO_ENTRY_FACTS, s["reader_id"],
                phone=phone,
            )
            direction = DIRECTION_VALUES[s["direction"]]
            if flags:
                exceptions.append(
                    [
                        s["tap_id"],
                        s["content_hash"] if conflict else content_hash(
                            s["reader_id"], card_id, s["technician_id"], direction,
                            s["reader_time"]),
                        site_id,
                        s["reader_id"],
                        ",".join(flags),
                        technician_id,
                        card_id,
                        s["reader_time"],
                        position,
                        s["stored_content_hash"] if conflict else None,
                    ]
                )
            if conflict:
                continue
            facts.append(
                [
                    s["tap_id"],
                    technician_id,
                    site_id,
                    s["reader_id"],
                    card_id,
                    direction,
                    s["reader_time"],
                    s["received_at"],
                    position,
                    orjson.dumps(flags).decode() if flags else "[]",
                ]
            )
            if site_id is not None and technician_id is not None:
                fact = TapFact(s["tap_id"], s["reader_time"], direction, position, flags)
                affected[(technician_id, site_id)].add(fact.jst_day)
                if counts(flags):
                    counted.append((technician_id, site_id, fact))
        # Each Tap.Recorded event is projected once (tracking commits with the rows), so these
        # are plain appends.
        tx.append_rows(
            "tap_facts",
            (
                "tap_id",
                "technician_id",
                "site_id",
                "reader_id",
                "card_id",
                "direction",
                "reader_time",
                "received_at",
                "position",
                "flags",
            ),
            facts,
            TAP_FACT_TYPES,
        )
        tx.append_rows(
            "site_exceptions",
            (
                "tap_id",
                "content_hash",
                "site_id",
                "reader_id",
                "kind",
                "technician_id",
                "card_id",
                "reader_time",
                "position",
                "stored_content_hash",
            ),
            exceptions,
        )
        return counted
