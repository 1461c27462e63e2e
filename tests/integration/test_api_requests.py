"""Manual entries and corrections over HTTP: request, approve, reject, and their conflicts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from ledger import clock
from ledger.actors import Actor, Role
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    PROBLEM_JSON,
    Api,
    World,
    api_fixture,
    api_settings_fixture,
    build_world,
    correction_body,
    entry_body,
    same_not_found,
)

KINDS = {"manual-entries": ("manual_entry", "ManualEntry", entry_body),
         "corrections": ("correction", "Correction", correction_body)}


@pytest.fixture
def world(api: Api) -> World:
    return build_world(api.ledger, 1)


def worker(w: World) -> Actor:
    return Actor(Role.WORKER, w.worker)


def prime(w: World) -> Actor:
    return Actor(Role.PRIME_CONTRACTOR, w.prime)


def events_of(api: Api, request_id: str) -> list[tuple[str, Any]]:
    return [(type(e).__qualname__, vars(e)["actor"]) for _, e in api.ledger.iter_log()
            if e.originator_id == UUID(request_id)]


@pytest.mark.parametrize("kind", KINDS)
def test_requested_by_the_worker_and_approved_by_the_prime(
    api: Api, world: World, kind: str
) -> None:
    name, aggregate, body = KINDS[kind]
    requested = api.post(f"/v1/{kind}", worker(world), body(world))
    assert requested.status_code == 201, requested.text
    assert requested.json() | {"request_id": "…"} == {
        "request_id": "…", "kind": name, "status": "pending",
        "position": api.ledger.log_position()}
    request_id = requested.json()["request_id"]
    approved = api.post(f"/v1/{kind}/{request_id}/approve", prime(world))
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["position"] > requested.json()["position"]
    assert events_of(api, request_id) == [(f"{aggregate}.Requested", worker(world)),
                                          ("ApprovableRequest.Approved", prime(world))]


@pytest.mark.parametrize("kind", KINDS)
def test_rejected_with_a_reason_then_no_longer_decidable(
    api: Api, world: World, kind: str
) -> None:
    employer = Actor(Role.EMPLOYER, world.sub)
    request_id = api.post(f"/v1/{kind}", employer, KINDS[kind][2](world)).json()["request_id"]
    rejected = api.post(f"/v1/{kind}/{request_id}/reject", prime(world), {"reason": "not seen"})
    assert rejected.json()["status"] == "rejected"
    again = api.post(f"/v1/{kind}/{request_id}/approve", prime(world))
    assert again.status_code == 409
    assert (again.json()["type"], again.json()["rule"]) == (
        "urn:ccus-ledger:problem:invalid-state", "decision.pending")


def test_approving_twice_is_a_conflict(api: Api, world: World) -> None:
    assert api.post(f"/v1/manual-entries/{world.entry}/approve", prime(world)).status_code == 200
    assert api.post(f"/v1/manual-entries/{world.entry}/approve", prime(world)).status_code == 409


def test_a_request_after_the_deadline_is_a_409(api: Api, world: World) -> None:
    """Entries for a date close at the end of the following month (JST)."""
    late = entry_body(world) | {"work_date": "2025-04-30", "entry_at": None, "exit_at": None}
    response = api.post("/v1/manual-entries", worker(world), late)
    assert response.status_code == 409
    assert (response.json()["type"], response.json()["rule"]) == (
        "urn:ccus-ledger:problem:deadline-passed", "request.deadline")


def test_a_decision_after_the_deadline_is_a_409(
    api: Api, world: World, now: clock.FixedClock
) -> None:
    now.advance(timedelta(days=45))  # 2025-08-04: entries for 2025-06-19 closed on 07-31
    response = api.post(f"/v1/manual-entries/{world.entry}/approve", prime(world))
    assert response.status_code == 409
    assert response.json()["rule"] == "decision.deadline"


def test_a_future_work_date_is_a_422(api: Api, world: World) -> None:
    future = entry_body(world) | {"work_date": "2025-06-21", "entry_at": None, "exit_at": None}
    response = api.post("/v1/manual-entries", worker(world), future)
    assert response.status_code == 422
    assert response.json()["field"] == "work_date"


def test_a_correction_must_change_something(api: Api, world: World) -> None:
    response = api.post("/v1/corrections", worker(world), correction_body(world) | {"changes": {}})
    assert response.status_code == 422
    assert response.json()["field"] == "changes"


def test_a_request_of_the_other_kind_is_absent_here(api: Api, world: World) -> None:
    """A correction's ID at /manual-entries is answered like an unknown ID."""
    wrong_kind = api.post(f"/v1/manual-entries/{world.correction}/approve", prime(world))
    unknown = api.post(f"/v1/manual-entries/{UUID(int=7)}/approve", prime(world))
    same_not_found(wrong_kind, unknown)


def test_an_upper_subcontractor_sees_the_request_but_may_not_decide(api: Api) -> None:
    """A business above the employer on the site sees the request (403), unlike a stranger
    (404), even when it holds a prime contractor key."""
    world = build_world(api.ledger, 1)
    api.ledger.add_subcontract(world.site, world.spare, world.sub, prime(world))
    api.ledger.register_worker("00017777777777", "鈴木 一郎", Actor(Role.ADMIN, "ops"))
    lower = Actor(Role.EMPLOYER, world.spare)
    api.ledger.join_employer("00017777777777", world.spare, date(2024, 1, 9), True, lower)
    api.ledger.confirm_employment("00017777777777", world.spare, Actor(Role.ADMIN, "ops"))
    body = entry_body(world, "00017777777777") | {"employer_business_id": world.spare}
    request_id = api.post("/v1/manual-entries", lower, body).json()["request_id"]
    upper = api.post(f"/v1/manual-entries/{request_id}/approve",
                     Actor(Role.PRIME_CONTRACTOR, world.sub))
    stranger = api.post(f"/v1/manual-entries/{request_id}/approve",
                        Actor(Role.PRIME_CONTRACTOR, world.other))
    assert (upper.status_code, stranger.status_code) == (403, 404)
    assert upper.headers["content-type"] == PROBLEM_JSON
