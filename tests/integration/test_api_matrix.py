"""Who may call each write endpoint: every role × every endpoint, exact statuses, on both
databases. A refusal stores nothing; a success stores something and says where (`position`)."""

from __future__ import annotations

import re

import pytest

from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ENDPOINTS,
    PROBLEM_JSON,
    ROLES,
    Api,
    Endpoint,
    api_fixture,
    api_settings_fixture,
    build_world,
)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_who_may_call_each_write_endpoint(api: Api, endpoint: Endpoint) -> None:
    actual: dict[str, int] = {}
    for k, role in enumerate(ROLES, start=1):
        world = build_world(api.ledger, k)  # a world of its own: no call sees another's effects
        actor = world.actors()[role]
        before = api.ledger.log_position()
        response = api.request(endpoint.method, endpoint.path(world), actor,
                               endpoint.body(world, actor))
        actual[role] = response.status_code
        if response.is_success:
            assert response.json()["position"] > before, (role, response.text)
        else:
            assert response.headers["content-type"] == PROBLEM_JSON, (role, response.text)
            assert api.ledger.log_position() == before, f"{role}: a refusal stored something"
    assert actual == endpoint.expected()


def test_every_write_endpoint_is_in_the_matrix(api: Api) -> None:
    """Reads (GET, and the as-of replay) are in the read matrix (test_api_read_matrix.py); key
    writes, which store no event, in test_api_keys.py; a phone's tap, which a passkey and no
    key authorises, in test_api_phone_taps.py."""
    documented = {
        (method.upper(), path) for path, item in api.app.openapi()["paths"].items()
        for method in item if method != "get" and path != "/v1/audit/replays"
        and not path.startswith("/v1/keys") and path != "/v1/phone-taps"
    }
    world = build_world(api.ledger, 1)
    covered = {(e.method, template) for e in ENDPOINTS for method, template in documented
               if method == e.method and _matches(template, e.path(world))}
    assert covered == documented


def _matches(template: str, path: str) -> bool:
    pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", template))
    return re.fullmatch(pattern, path) is not None
