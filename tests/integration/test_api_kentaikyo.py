"""Entry checks and Kentaikyo accounts over HTTP, on both databases: a contracting employer buys
and applies points (a shortfall is a 409 naming it), reads its account; the site's coverage as
the prime and as the subcontractor see it; the site's and the worker's expiry alerts; a tap at
a site with entry checks answered `flagged` with its reasons. The matrices
(tests/api_support.py, tests/api_read_support.py) hold every role's refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from api.config import ApiSettings
from ledger.actors import Actor, Role
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.store import ReadStore
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ADMIN,
    PROBLEM_JSON,
    Api,
    World,
    api_fixture,
    build_world,
    tap,
)


@pytest.fixture(name="api_settings")
def api_settings_fixture() -> ApiSettings:
    return ApiSettings(reader_cache_seconds=30.0, projection=False)


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadStore]:
    read_store = ReadStore(settings)
    yield read_store
    read_store.close()


@pytest.fixture
def world(api: Api) -> World:
    w = build_world(api.ledger, 1)
    api.ledger.enroll_business_in_kentaikyo(w.sub, "9200", date(2020, 1, 1), ADMIN)
    api.ledger.enroll_worker_in_kentaikyo(w.worker, "7001", date(2020, 1, 1), ADMIN)
    return w


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def test_points_bought_applied_and_read_back_and_a_shortfall_named(
    api: Api, world: World, store: ReadStore
) -> None:
    sub = Actor(Role.EMPLOYER, world.sub)
    account = f"/v1/businesses/{world.sub}/kentaikyo"
    ok(api.post(f"{account}/purchases", sub, {"purchase_id": "P-1", "purchased_on": "2025-06-01",
                                              "points": 640}), 201)
    short = api.post(f"{account}/uses", sub, {"reference": "2025-06", "used_on": "2025-06-20",
                                              "points": 641})
    assert short.status_code == 409 and short.headers["content-type"] == PROBLEM_JSON
    assert (short.json()["field"], short.json()["rule"]) == ("points", "points.shortfall")
    assert "1 short" in short.json()["detail"]
    ok(api.post(f"{account}/uses", sub, {
        "reference": "2025-06", "used_on": "2025-06-20", "points": 640,
        "days": [{"technician_id": world.worker, "site_id": world.site,
                  "work_date": "2025-06-20"}]}))
    ok(api.post(f"{account}/wage-payments", sub, {"month": "2025-06", "paid_on": "2025-07-10"}))
    LogFollower(api.ledger, store).catch_up()
    read = ok(api.request("GET", f"{account}/account?first=2025-06&last=2025-07", sub))
    assert [(m["month"], m["opening"], m["purchased"], m["used"], m["closing"])
            for m in read["months"]] == [("2025-06", 0, 640, 640, 0), ("2025-07", 0, 0, 0, 0)]
    assert [(d["month"], d["wage_paid_on"], d["due_on"], d["applied"])
            for d in read["deadlines"]] == [("2025-06", "2025-07-10", "2025-08-31", True),
                                            ("2025-07", "2025-07-31", "2025-08-31", False)]
    # another business's key: the 404 of an unregistered business
    hidden = api.request("GET", f"{account}/account?first=2025-06&last=2025-06",
                     Actor(Role.EMPLOYER, world.other))
    absent = api.request("GET", "/v1/businesses/99999/kentaikyo/account?first=2025-06&last=2025-06",
                     Actor(Role.EMPLOYER, world.other))
    assert hidden.status_code == absent.status_code == 404


def test_a_flagged_tap_is_answered_with_its_reasons_and_its_day_reconciled(
    api: Api, world: World, store: ReadStore
) -> None:
    prime = Actor(Role.PRIME_CONTRACTOR, world.prime)
    ok(api.post(f"/v1/sites/{world.site}/entry-checks", prime, None))
    ok(api.post(f"/v1/sites/{world.site}/required-qualifications", prime,
                {"qualification": "玉掛技能講習", "trade": "鉄筋"}))
    ok(api.post(f"/v1/workers/{world.worker}/qualification-expiries",
                Actor(Role.WORKER, world.worker),
                {"qualification": "玉掛技能講習", "expires_on": "2025-06-19"}))
    ok(api.post(f"/v1/workers/{world.worker}/insurance-records", Actor(Role.EMPLOYER, world.sub),
                {"health": "enrolled", "pension": "enrolled", "employment": "exempt",
                 "as_of": "2025-06-01", "exempt_reasons": {"employment": "役員"}}))
    [answer] = ok(api.post("/v1/taps", Actor(Role.READER, world.reader),
                           {"taps": [tap(world, 1)]}))["results"]
    assert (answer["status"], answer["flags"]) == ("flagged", ["qualification_expired"])
    LogFollower(api.ledger, store).catch_up()
    coverage = ok(api.request(
        "GET", f"/v1/sites/{world.site}/kentaikyo/coverage?month=2025-06", prime))
    day = next(d for d in coverage["items"] if d["work_date"] == "2025-06-20")
    assert (day["coverage"], day["paid"]) == ("not_covered", 0)  # counted, and not yet paid
    alerts = ok(api.request("GET", f"/v1/sites/{world.site}/expiry-alerts?within=30", prime))
    assert [(a["technician_id"], a["days_left"], a["required"]) for a in alerts["items"]] == [
        (world.worker, -1, True)]
    for viewer in (prime, Actor(Role.EMPLOYER, world.sub)):  # the prime's and the sub's view
        roster = ok(api.request("GET", f"/v1/sites/{world.site}/roster", viewer))["items"]
        assert [(r["technician_id"], r["employment"], r["insurance_as_of"], r["entry_flags"])
                for r in roster] == [(world.worker, "exempt", "2025-06-01",
                                      ["qualification_expired"])]
    mine = ok(api.request("GET", f"/v1/workers/{world.worker}/expiry-alerts",
                      Actor(Role.WORKER, world.worker)))
    assert mine["within_days"] == 30 and len(mine["items"]) == 1
    bad = api.post(f"/v1/workers/{world.worker}/insurance-records", ADMIN,
                   {"health": "exempt", "pension": "enrolled", "employment": "enrolled",
                    "as_of": "2025-06-01"})
    assert (bad.status_code, bad.json()["field"]) == (422, "exempt_reasons")
