"""The OpenAPI document: every error response is problem+json, declared per route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.problems import PROBLEM_MEDIA_TYPE, Problem
from api.schemas.taps import TapIn

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
DESCRIPTIONS = {
    401: "No bearer token, or one that is unknown or revoked",
    403: "The acting party may not do this",
    404: "Not registered — or not visible to the acting party (the same answer)",
    409: "Conflicts with what is stored: exists already, wrong state, or past the deadline",
    413: "The request body is too large",
    422: "A field is invalid; `field` names it",
    503: "The database is unreachable, or (with `min_position`) the read models are behind",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: these statuses answer problem+json."""
    return {
        status: {"description": DESCRIPTIONS[status],
                 "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}}
        for status in statuses
    }


AUTHENTICATED = problems(401, 403, 413, 422, 503)  # every route that needs a key
# Schemas the document refers to that no route's types bring in: the problem+json body, and a
# tap as sent (a batch takes each tap as raw JSON, see api.schemas.taps.TapSent).
DOCUMENTED = (Problem, TapIn)


def openapi_builder(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes, tags=app.openapi_tags,
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for model in DOCUMENTED:
                schemas[model.__name__] = model.model_json_schema(
                    ref_template="#/components/schemas/{model}"
                )
                schemas.update(schemas[model.__name__].pop("$defs", {}))
            app.openapi_schema = document
        return app.openapi_schema

    return build
