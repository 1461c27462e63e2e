"""The OpenAPI document: every error response is problem+json, declared per route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.problems import PROBLEM_MEDIA_TYPE, Problem
from api.reading import INCOMPLETE_HEADER
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


INCOMPLETE = {
    "description": "Log positions of quarantined events about this worker or site (comma "
    "separated): the answer may lack what they would have added (see `/v1/ready`). Absent when "
    "nothing about them is quarantined.",
    "schema": {"type": "string", "pattern": "^[0-9]+(, [0-9]+)*$", "examples": ["1042, 1077"]},
}
ABOUT = ("technician_id", "site_id")  # the path IDs `Reads` names an answer's worker or site by


def declare_incomplete(document: dict[str, Any]) -> None:
    """Declare `Ledger-Incomplete` on the success answer of every operation that can send it:
    a read through `Reads` (the only operations taking `min_position`, `api.deps.reads_as`)
    whose path names a worker or a site (`Reads.about`: the header's condition)."""
    for item in document["paths"].values():
        for operation in item.values():
            given = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
            if ("query", "min_position") not in given or not any(
                    ("path", name) in given for name in ABOUT):
                continue
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    response.setdefault("headers", {})[INCOMPLETE_HEADER] = INCOMPLETE


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
            declare_incomplete(document)
            app.openapi_schema = document
        return app.openapi_schema

    return build
