"""Each write endpoint: bad input is a 422 problem naming the field; something absent and
something the caller may not see are the same 404."""

from __future__ import annotations

import pytest

from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ENDPOINTS,
    PROBLEM_JSON,
    Api,
    Endpoint,
    api_fixture,
    api_settings_fixture,
    build_world,
    same_not_found,
)


def a_caller_who_may(endpoint: Endpoint) -> str:
    """A role the endpoint serves: it succeeds, or is refused only for the ledger's state (409:
    the matrix's world holds no tap for the staff to resolve an unknown card by)."""
    return next(role for role, status in endpoint.statuses.items()
                if 200 <= status < 300 or status == 409)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_bad_input_is_a_422_problem_naming_the_field(api: Api, endpoint: Endpoint) -> None:
    world = build_world(api.ledger, 1)
    actor = world.actors()[a_caller_who_may(endpoint)]
    make_request, field = endpoint.bad
    path, body = make_request(world)
    before = api.ledger.log_position()
    response = api.request(endpoint.method, path, actor, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["field"] == field
    assert problem["status"] == 422
    assert problem["type"] == "urn:ccus-ledger:problem:invalid-value"
    assert problem["detail"].startswith(f"{field}: ")
    assert api.ledger.log_position() == before


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.absent], ids=lambda e: e.name)
def test_not_yours_is_the_same_404_as_absent(api: Api, endpoint: Endpoint) -> None:
    assert endpoint.absent is not None
    role, absent_request = endpoint.absent
    world = build_world(api.ledger, 1)
    actor = world.actors()[role]
    hidden = api.request(endpoint.method, endpoint.path(world), actor, endpoint.body(world, actor))
    path, body = absent_request(world)
    absent = api.request(endpoint.method, path, actor, body)
    same_not_found(hidden, absent)
