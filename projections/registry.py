"""Registry read models: businesses, workers, sites, readers and cards, with their log positions.

Readers, cards and rosters keep the position they became valid (and stopped being valid) at, so the
work-record projection can ask what they were *when a tap was recorded*: a card revoked later does
not flag the taps made before, and a replay gives the same answer as the live projection did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from ledger.domain.business import Business
from ledger.domain.registry import Card, Reader
from ledger.domain.site import Site
from ledger.domain.worker import Worker
from projections.decoding import EventClass
from projections.store import Tx

Handler = Callable[[Tx, int, dict[str, Any]], None]
# Keyed by the domain's event classes (most are made by the library from an aggregate's
# `@event` methods, hence unknown to the type checker): a class renamed or removed fails here,
# at import, instead of leaving its handler silently unused.
HANDLERS: dict[EventClass, Handler] = {}


def handles(*event_classes: EventClass) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        for event_class in event_classes:
            if event_class in HANDLERS:
                raise ValueError(f"{event_class.__qualname__} has two handlers")
            HANDLERS[event_class] = function
        return function

    return register


def _append_position(tx: Tx, table: str, key_column: str, key: str, position: int) -> None:
    rows = tx.execute(f"SELECT positions FROM {{{table}}} WHERE {key_column} = %s", [key])
    if rows:
        positions = [*orjson.loads(rows[0][0]), position]
        tx.execute(
            f"UPDATE {{{table}}} SET positions = %s WHERE {key_column} = %s",
            [orjson.dumps(positions).decode(), key],
        )


def _positions(*positions: int) -> str:
    return orjson.dumps(list(positions)).decode()


@handles(Business.Registered)  # type: ignore[attr-defined]
def business_registered(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {businesses} (business_id, name, positions) VALUES (%s, %s, %s)",
        [e["business_id"], e["name"], _positions(position)],
    )


@handles(Business.KentaikyoEnrolled)  # type: ignore[attr-defined]
def business_enrolled(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "UPDATE {businesses} SET kentaikyo_contract_number = %s, kentaikyo_since = %s "
        "WHERE business_id = %s",
        [e["contract_number"], e["since"], e["business_id"]],
    )
    _append_position(tx, "businesses", "business_id", e["business_id"], position)


@handles(Worker.Registered)  # type: ignore[attr-defined]
def worker_registered(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {workers} (technician_id, name, positions) VALUES (%s, %s, %s)",
        [e["technician_id"], e["name"], _positions(position)],
    )


@handles(Worker.EmploymentStarted)  # type: ignore[attr-defined]
def employment_started(tx: Tx, position: int, e: dict[str, Any]) -> None:
    worker = e["technician_id"]
    current_primary = tx.execute(
        "SELECT 1 FROM {worker_employments} WHERE technician_id = %s AND is_primary AND "
        "until IS NULL",
        [worker],
    )
    primary = bool(e["primary"]) or not current_primary
    if primary:
        tx.execute(
            "UPDATE {worker_employments} SET is_primary = %s WHERE technician_id = %s",
            [False, worker],
        )
    tx.execute(
        "INSERT INTO {worker_employments} (technician_id, business_id, since, until, "
        "is_primary, positions) VALUES (%s, %s, %s, NULL, %s, %s)",
        [worker, e["business_id"], e["since"], primary, _positions(position)],
    )


@handles(Worker.EmploymentRequested)  # type: ignore[attr-defined]
def employment_requested(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {worker_employment_requests} (technician_id, business_id, since, "
        "is_primary, status, requested_position) VALUES (%s, %s, %s, %s, 'pending', %s)",
        [e["technician_id"], e["business_id"], e["since"], bool(e["primary"]), position],
    )


@handles(Worker.EmploymentConfirmed)  # type: ignore[attr-defined]
def employment_confirmed(tx: Tx, position: int, e: dict[str, Any]) -> None:
    """The worker consented: only now is the business their employer. The employment names
    the request and the confirmation."""
    requested = tx.execute(
        "SELECT requested_position FROM {worker_employment_requests} "
        "WHERE technician_id = %s AND business_id = %s AND status = 'pending'",
        [e["technician_id"], e["business_id"]],
    )
    _employment_request_decided(tx, position, e, "confirmed")
    employment_started(tx, position, e)
    if requested:
        tx.execute(
            "UPDATE {worker_employments} SET positions = %s WHERE technician_id = %s "
            "AND business_id = %s AND since = %s",
            [_positions(requested[0][0], position), e["technician_id"], e["business_id"],
             e["since"]],
        )


@handles(Worker.EmploymentDeclined)  # type: ignore[attr-defined]
def employment_declined(tx: Tx, position: int, e: dict[str, Any]) -> None:
    _employment_request_decided(tx, position, e, "declined")


def _employment_request_decided(tx: Tx, position: int, e: dict[str, Any], status: str) -> None:
    tx.execute(
        "UPDATE {worker_employment_requests} SET status = %s, decided_position = %s "
        "WHERE technician_id = %s AND business_id = %s AND status = 'pending'",
        [status, position, e["technician_id"], e["business_id"]],
    )


@handles(Worker.EmploymentEnded)  # type: ignore[attr-defined]
def employment_ended(tx: Tx, position: int, e: dict[str, Any]) -> None:
    worker, business = e["technician_id"], e["business_id"]
    rows = tx.execute(
        "SELECT positions, is_primary FROM {worker_employments} "
        "WHERE technician_id = %s AND business_id = %s AND until IS NULL",
        [worker, business],
    )
    if not rows:
        return
    positions = [*orjson.loads(rows[0][0]), position]
    tx.execute(
        "UPDATE {worker_employments} SET until = %s, is_primary = %s, positions = %s "
        "WHERE technician_id = %s AND business_id = %s AND until IS NULL",
        [e["until"], False, orjson.dumps(positions).decode(), worker, business],
    )
    if rows[0][1]:  # the primary employer left: the earliest remaining one becomes primary
        remaining = tx.execute(
            "SELECT business_id, since FROM {worker_employments} "
            "WHERE technician_id = %s AND until IS NULL ORDER BY since, "
            "business_id",
            [worker],
        )
        if remaining:
            tx.execute(
                "UPDATE {worker_employments} SET is_primary = %s WHERE technician_id = %s "
                "AND business_id = %s AND since = %s",
                [True, worker, remaining[0][0], remaining[0][1]],
            )


@handles(Worker.KentaikyoEnrolled)  # type: ignore[attr-defined]
def worker_enrolled(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "UPDATE {workers} SET kentaikyo_member_number = %s, kentaikyo_since = %s "
        "WHERE technician_id = %s",
        [e["member_number"], e["since"], e["technician_id"]],
    )
    _append_position(tx, "workers", "technician_id", e["technician_id"], position)


@handles(Worker.QualificationAdded)  # type: ignore[attr-defined]
def qualification_added(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {worker_qualifications} (technician_id, qualification, acquired_on, "
        "position) VALUES (%s, %s, %s, %s)",
        [e["technician_id"], e["code"], e["acquired_on"], position],
    )


@handles(Worker.ForemanTrainingCompleted)  # type: ignore[attr-defined]
def foreman_trained(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "UPDATE {workers} SET foreman_training_on = %s WHERE technician_id = %s",
        [e["completed_on"], e["technician_id"]],
    )
    _append_position(tx, "workers", "technician_id", e["technician_id"], position)


@handles(Worker.SocialInsuranceConfirmed)  # type: ignore[attr-defined]
def insurance_confirmed(tx: Tx, position: int, e: dict[str, Any]) -> None:
    status = {k: getattr(e[k], "value", e[k]) for k in ("health", "pension", "employment")}
    status["as_of"] = e["as_of"].isoformat()
    tx.execute(
        "UPDATE {workers} SET social_insurance = %s WHERE technician_id = %s",
        [orjson.dumps(status).decode(), e["technician_id"]],
    )
    _append_position(tx, "workers", "technician_id", e["technician_id"], position)
    # The entry checks read every record with its position (projections/entry_checks.py).
    tx.execute(
        "INSERT INTO {worker_insurance_history} (position, technician_id, as_of, health, "
        "pension, employment, exempt_reasons, confirmed_by) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        [position, e["technician_id"], e["as_of"], *(status[k] for k in
         ("health", "pension", "employment")), "{}", str(e["actor"])])


@handles(Worker.CareerCertified)  # type: ignore[attr-defined]
def career_certified(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {worker_certificates} (position, technician_id, certifier_business_id, "
        "relation, trade, period_start, period_end, work_days, foreman_days, team_leader_days) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            position,
            e["technician_id"],
            e["certifier_business_id"],
            e["relation"].value,
            e["trade"],
            e["period_start"],
            e["period_end"],
            e["work_days"],
            e["foreman_days"],
            e["team_leader_days"],
        ],
    )


@handles(Worker.CareerCertificateProposed)  # type: ignore[attr-defined]
def certificate_proposed(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {worker_certificate_proposals} (certificate_id, technician_id, "
        "certifier_business_id, relation, trade, period_start, period_end, work_days, "
        "foreman_days, team_leader_days, basis, status, proposed_position) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending', %s) "
        "ON CONFLICT DO NOTHING",
        [
            e["certificate_id"],
            e["technician_id"],
            e["certifier_business_id"],
            e["relation"].value,
            e["trade"],
            e["period_start"],
            e["period_end"],
            e["work_days"],
            e["foreman_days"],
            e["team_leader_days"],
            e["basis"],
            position,
        ],
    )


@handles(Worker.CareerCertificateConfirmed)  # type: ignore[attr-defined]
def certificate_confirmed(tx: Tx, position: int, e: dict[str, Any]) -> None:
    """Only now does the certificate count (worker_certificates feeds level judgment)."""
    _certificate_decided(tx, position, e, "confirmed")
    career_certified(tx, position, e)


@handles(Worker.CareerCertificateDeclined)  # type: ignore[attr-defined]
def certificate_declined(tx: Tx, position: int, e: dict[str, Any]) -> None:
    _certificate_decided(tx, position, e, "declined")


def _certificate_decided(tx: Tx, position: int, e: dict[str, Any], status: str) -> None:
    tx.execute(
        "UPDATE {worker_certificate_proposals} SET status = %s, decided_position = %s "
        "WHERE certificate_id = %s AND status = 'pending'",
        [status, position, e["certificate_id"]],
    )


@handles(Site.Opened)  # type: ignore[attr-defined]
def site_opened(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {sites} (site_id, name, prime_business_id, kentaikyo_method, "
        "opened_on, positions) VALUES (%s, %s, %s, %s, %s, %s)",
        [
            e["site_id"],
            e["name"],
            e["prime_business_id"],
            e["kentaikyo_method"].value,
            e["opened_on"],
            _positions(position),
        ],
    )
    tx.execute(
        "INSERT INTO {site_structure} (site_id, business_id, parent_business_id, tier, "
        "position) VALUES (%s, %s, NULL, 0, %s)",
        [e["site_id"], e["prime_business_id"], position],
    )


@handles(Site.SubcontractAdded)  # type: ignore[attr-defined]
def subcontract_added(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {site_structure} (site_id, business_id, parent_business_id, tier, "
        "position) VALUES (%s, %s, %s, %s, %s)",
        [e["site_id"], e["business_id"], e["parent_business_id"], e["tier"], position],
    )


@handles(Site.RosterEntrySet)  # type: ignore[attr-defined]
def roster_entry_set(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {roster_history} (site_id, technician_id, from_position, "
        "employer_business_id, trade, role_position, since) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [
            e["site_id"],
            e["technician_id"],
            position,
            e["employer_business_id"],
            e["trade"],
            e["position"].value,
            e["since"],
        ],
    )


@handles(Site.Closed)  # type: ignore[attr-defined]
def site_closed(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "UPDATE {sites} SET closed_on = %s WHERE site_id = %s", [e["closed_on"], e["site_id"]]
    )
    _append_position(tx, "sites", "site_id", e["site_id"], position)


@handles(Reader.Registered)
def reader_registered(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {reader_registry} (reader_id, site_id, direction_mode, "
        "registered_at_position) VALUES (%s, %s, %s, %s)",
        [e["reader_id"], e["site_id"], e["direction_mode"].value, position],
    )


@handles(Reader.Retired)  # type: ignore[attr-defined]
def reader_retired(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "UPDATE {reader_registry} SET retired_at_position = %s WHERE reader_id = %s",
        [position, e["reader_id"]],
    )


@handles(Card.Issued)  # type: ignore[attr-defined]
def card_issued(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {card_registry} (card_id, technician_id, issued_at_position) "
        "VALUES (%s, %s, %s)",
        [e["card_id"], e["technician_id"], position],
    )


@handles(Card.Revoked)  # type: ignore[attr-defined]
def card_revoked(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "UPDATE {card_registry} SET revoked_at_position = %s WHERE card_id = %s",
        [position, e["card_id"]],
    )


@handles(Site.MissingExitResolved)  # type: ignore[attr-defined]
def missing_exit_resolved(tx: Tx, position: int, e: dict[str, Any]) -> None:
    """The staff's statement, kept beside the record (`projections.queries.attendance`)."""
    tx.execute(
        "INSERT INTO {exit_resolutions} (position, site_id, technician_id, work_date, exit_at, "
        "reason, resolved_by, resolved_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        [position, e["site_id"], e["technician_id"], e["work_date"], e["exit_at"], e["reason"],
         str(e["actor"]), e["decided_at"]],
    )
