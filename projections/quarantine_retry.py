"""Retrying quarantined events after a fix (`ledger quarantine retry`): in place when the
projection can take the event alone, else by a rebuild of the read models.

Each event is retried by the projection it belongs to. The jobs' events (day closes, seals,
settlements, fee bills) are quarantined by the jobs' projection, which the ledger's projection
and its rebuild never run (they ignore those events): they are retried in place by the jobs'
projection, whose rows are each one event's and are inserted only if absent, so late equals
in order.

Apart from ``projections.quarantine`` so the log follower, which quarantines, and the rebuild,
which runs the follower, do not import each other round a loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ledger import clock
from ledger.application import Ledger
from ledger.settings import Settings
from projections.decoding import LoggedEvent, decode
from projections.projector import EVENT_CLASSES, REQUEST_EVENTS, TAP_EVENTS, LedgerProjection
from projections.quarantine import QuarantinedEvent, describe, is_event_fault, quarantined
from projections.replay import rebuild
from projections.settlement import HANDLED as JOBS_EVENTS
from projections.settlement import JobsProjection
from projections.store import ReadStore, Tx


class _Projection(Protocol):
    name: str

    def process(self, tx: Tx, batch: list[LoggedEvent]) -> None: ...


def belongs_to_jobs(event_type: str) -> bool:
    """Whether the jobs' projection, not the ledger's, projects (and quarantined) the event."""
    return event_type in JOBS_EVENTS


def projects_in_place(event_type: str) -> bool:
    """Whether projecting the event late leaves the read model as a rebuild would (see above)."""
    event_class = EVENT_CLASSES.get(event_type)  # None: an undecodable event's stored topic
    return event_class in TAP_EVENTS or event_class in REQUEST_EVENTS


@dataclass
class RetryOutcome:
    projected: list[int] = field(default_factory=list)
    still_quarantined: list[QuarantinedEvent] = field(default_factory=list)
    rebuilt: bool = False


def retry(
    ledger: Ledger,
    settings: Settings,
    position: int | None = None,
    projection: Callable[[], LedgerProjection] = LedgerProjection,
) -> RetryOutcome:
    """Retry the quarantined events (or the one at ``position``), after a fix. ``projection``
    makes the projection an event is retried with in place (as the runner takes one)."""
    store = ReadStore(settings)
    try:
        with store.read() as tx:
            chosen = quarantined(tx, position)
        jobs = [event for event in chosen if belongs_to_jobs(event.event_type)]
        chosen = [event for event in chosen if not belongs_to_jobs(event.event_type)]
        outcome = _retry_in_place(ledger, store, jobs, JobsProjection)
        if all(projects_in_place(event.event_type) for event in chosen):
            return _merged(outcome, _retry_in_place(ledger, store, chosen, projection))
    finally:
        store.close()
    return _merged(outcome, _retry_by_rebuild(ledger, settings, chosen))


def _merged(first: RetryOutcome, second: RetryOutcome) -> RetryOutcome:
    return RetryOutcome(sorted(first.projected + second.projected),
                        sorted(first.still_quarantined + second.still_quarantined,
                               key=lambda event: event.position),
                        first.rebuilt or second.rebuilt)


def _retry_in_place(
    ledger: Ledger,
    store: ReadStore,
    chosen: list[QuarantinedEvent],
    projection: Callable[[], _Projection],
) -> RetryOutcome:
    outcome = RetryOutcome()
    for event in chosen:
        try:
            _project_alone(ledger, store, event.position, projection())
            outcome.projected.append(event.position)
        except Exception as error:
            if not is_event_fault(error):
                raise
            with store.transaction() as tx:
                kind, message = describe(error)
                tx.execute(
                    "UPDATE {quarantined_events} SET error_kind = %s, error_message = %s, "
                    "last_tried_at = %s, attempts = attempts + 1 WHERE position = %s",
                    [kind, message, clock.now(), event.position])
                outcome.still_quarantined += quarantined(tx, event.position)
    return outcome


def _project_alone(
    ledger: Ledger, store: ReadStore, position: int, projection: _Projection
) -> None:
    """Project one event late, in its own transaction, and take it out of quarantine. A fresh
    projection keeps nothing: it reads every fact it needs."""
    [notification] = ledger.recorder.select_notifications(start=position, limit=1)
    [logged] = decode(ledger.mapper, [notification])
    with store.transaction() as tx:
        lock = "" if store.sqlite else " FOR UPDATE"
        # Taken like a runner takes it, so a runner's batch and this retry do not interleave.
        tx.execute(f"SELECT position FROM {{projection_positions}} WHERE name = %s{lock}",
                   [projection.name])
        projection.process(tx, [LoggedEvent(*logged)])
        tx.execute("DELETE FROM {quarantined_events} WHERE position = %s", [position])
        tx.execute("UPDATE {projection_positions} SET retried = retried + 1 WHERE name = %s",
                   [projection.name])


def _retry_by_rebuild(
    ledger: Ledger, settings: Settings, chosen: list[QuarantinedEvent]
) -> RetryOutcome:
    store = ReadStore(settings)
    try:
        with store.read() as tx:
            before = {event.position: event for event in quarantined(tx)}
        rebuild(ledger, settings)
        with store.transaction() as tx:  # the rebuild's fresh list, with each event's history
            for event in quarantined(tx):
                if event.position in before:
                    tx.execute(
                        "UPDATE {quarantined_events} SET first_seen_at = %s, attempts = %s "
                        "WHERE position = %s",
                        [before[event.position].first_seen_at,
                         before[event.position].attempts + 1, event.position])
            remaining = {event.position: event for event in quarantined(tx)}
    finally:
        store.close()
    return RetryOutcome(
        projected=[event.position for event in chosen if event.position not in remaining],
        still_quarantined=[remaining[e.position] for e in chosen if e.position in remaining],
        rebuilt=True,
    )
