"""Fuzzing the OpenAPI document (schemathesis): every operation, valid and invalid inputs, with an
admin's key and a gate reader's — no input is answered 5xx, and every error is problem+json.

Bounded and repeatable: 20 examples per operation, derandomized, on both databases, against one
app holding the read world (tests/api_read_support.py) that the admin's writes keep changing.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from api.main import create_app
from tests.api_read_support import ReadWorld, read_api_fixture  # noqa: F401  (a fixture)
from tests.api_support import ADMIN, PROBLEM_JSON, Api

SCHEMA = schemathesis.openapi.from_dict(create_app().openapi())


def call(api: Api, case: Any, token: str) -> Any:
    kwargs = case.as_transport_kwargs(base_url="http://testserver",
                                      headers={"Authorization": f"Bearer {token}"})
    kwargs.pop("cookies", None)
    if "data" in kwargs:  # a raw (invalid) body
        kwargs["content"] = kwargs.pop("data")
    return api.client.request(**kwargs)


@SCHEMA.parametrize()
@settings(max_examples=20, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_input_is_a_server_error(read_api: tuple[Api, ReadWorld], case: Any) -> None:
    api, world = read_api
    reader = world.actors()["reader"]
    assert reader is not None
    for actor in (ADMIN, reader):
        response = call(api, case, api.token(actor))
        assert response.status_code < 500, (actor, case.method, case.formatted_path,
                                            response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == PROBLEM_JSON, response.text
