"""The audit trail: the stored events behind a work record, with actors, times and reasons, read
back from the event store; and the global log page by page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import orjson
import pytest

from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.settings import Settings
from projections.audit import MAX_PAGE, audit_work_record, events_after
from tests.integration.queries_world import (
    ADMIN,
    EMPLOYER_ADMIN,
    PRIME_STAFF,
    SITE,
    SUB,
    TECHNICIAN,
    Scene,
    jst,
)

GATE = Actor(Role.READER, "GATE-1")


@pytest.fixture
def scene(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[Scene]:
    with Scene.built(ledger, settings, now) as built:
        yield built


def test_audit_returns_the_taps_and_the_approved_correction_with_actors(
    scene: Scene, ledger: Ledger, now: FixedClock,
) -> None:
    # uploaded late, on 6/20: the recorded time is the upload's, the business time the tap's
    entry = scene.tap("GATE-1", "in", jst(2025, 6, 2, 8), actor=GATE, received_at=now.at)
    leave = scene.tap("GATE-1", "out", jst(2025, 6, 2, 17), actor=GATE, received_at=now.at)
    ledger.request_correction(TECHNICIAN, SITE, date(2025, 6, 2), SUB, {"position": "職長"},
                              "職長として従事", EMPLOYER_ADMIN)
    now.advance(timedelta(days=1))
    [pending] = ledger.recorder.select_notifications(start=ledger.log_position(), limit=1)
    ledger.approve(ledger.mapper.to_domain_event(pending).originator_id, PRIME_STAFF)
    with scene.read() as tx:
        trail = audit_work_record(ledger, tx, TECHNICIAN, SITE, date(2025, 6, 2))
    assert [(e.event_type, e.actor) for e in trail] == [
        ("Tap.Recorded", "reader:GATE-1"), ("Tap.Recorded", "reader:GATE-1"),
        ("Correction.Requested", "employer:200"),
        ("ApprovableRequest.Approved", "prime_contractor:100")]
    assert [e.position for e in trail[:2]] == [entry.position, leave.position]
    assert [e.business_time for e in trail] == [
        jst(2025, 6, 2, 8), jst(2025, 6, 2, 17), date(2025, 6, 2), jst(2025, 6, 21, 10)]
    assert [e.recorded_at for e in trail] == [jst(2025, 6, 20, 10)] * 3 + [jst(2025, 6, 21, 10)]
    assert [e.reason for e in trail] == [None, None, "職長として従事", None]
    assert trail[2].originator_id == trail[3].originator_id


def test_audit_returns_the_rejection_and_its_reason(scene: Scene, ledger: Ledger) -> None:
    request_id = scene.manual_entry(date(2025, 6, 9))
    ledger.reject(request_id, "当日の入場記録がない", PRIME_STAFF)
    with scene.read() as tx:
        trail = audit_work_record(ledger, tx, TECHNICIAN, SITE, date(2025, 6, 9))
    assert [(e.event_type, e.actor, e.reason) for e in trail] == [
        ("ManualEntry.Requested", "employer:200", None),
        ("ApprovableRequest.Rejected", "prime_contractor:100", "当日の入場記録がない")]
    assert {e.originator_id for e in trail} == {request_id}


def test_audit_of_a_record_that_does_not_exist_is_empty(scene: Scene, ledger: Ledger) -> None:
    with scene.read() as tx:
        assert audit_work_record(ledger, tx, TECHNICIAN, SITE, date(2025, 6, 9)) == []


def test_events_after_pages_through_the_whole_log_in_order(scene: Scene, ledger: Ledger) -> None:
    scene.shift("GATE-1", jst(2025, 6, 2, 8))
    pages, position = [], 0
    while page := events_after(ledger, position, limit=4):
        assert len(page) <= 4
        pages.append(page)
        position = page[-1].position
    positions = [entry.position for page in pages for entry in page]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert positions[-1] == ledger.log_position() and len(positions) == ledger.log_position()
    first = pages[0][0]
    assert (first.event_type, first.actor, first.position) == (
        "Business.Registered", "admin:office", 1)


def test_an_ended_employment_still_names_the_event_that_started_it(
    scene: Scene, ledger: Ledger,
) -> None:
    ledger.leave_employer(TECHNICIAN, SUB, date(2025, 6, 19), ADMIN)
    with scene.read() as tx:
        [(positions,)] = tx.execute("SELECT positions FROM {worker_employments} "
                                    "WHERE technician_id = %s", [TECHNICIAN])
    types = {entry.position: entry.event_type for entry in events_after(ledger, 0, MAX_PAGE)}
    assert sorted(types[p] for p in orjson.loads(positions)) == [
        "Worker.EmploymentEnded", "Worker.EmploymentStarted"]
