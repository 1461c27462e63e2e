"""Errors as `application/problem+json` (RFC 9457), each naming the field and the rule it broke.

| error                              | status | type (urn:ccus-ledger:problem:…) |
|------------------------------------|--------|----------------------------------|
| InvalidValue, request validation   | 422    | invalid-value                    |
| UnknownReference, or not yours     | 404    | not-found                        |
| AlreadyExists                      | 409    | already-exists                   |
| NotPermitted                       | 403    | not-permitted                    |
| DeadlinePassed                     | 409    | deadline-passed                  |
| InvalidState                       | 409    | invalid-state                    |
| missing, unknown or revoked token  | 401    | unauthenticated                  |
| body over the limit                | 413    | content-too-large                |
| database unreachable               | 503    | unavailable                      |
| read models behind `min_position`  | 503    | projection-behind                |
| `/v1/ready`: event(s) quarantined, | 503    | not-ready                        |
| or the projection failing          |        |                                  |

A deadline is a conflict with the state of the world (time has moved on), not a malformed
request, so it is 409 like the other state conflicts. Something the actor may not see is
answered exactly like something absent (`hidden`), so a refusal never tells whether it exists.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import orjson
import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import (
    AlreadyExists,
    DeadlinePassed,
    InvalidState,
    InvalidValue,
    LedgerError,
    NotPermitted,
    UnknownReference,
)
from ledger.privacy import hidden as hidden  # the answer for what the actor may not see

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:ccus-ledger:problem:"
log = logging.getLogger("api")


@dataclass(frozen=True)
class Kind:
    status: int
    slug: str  # "" for a plain HTTP error (unknown path, wrong method): type about:blank
    title: str

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.slug if self.slug else "about:blank"


INVALID = Kind(422, "invalid-value", "Invalid value")
NOT_FOUND = Kind(404, "not-found", "Not found")
UNAUTHENTICATED = Kind(401, "unauthenticated", "Unauthenticated")
TOO_LARGE = Kind(413, "content-too-large", "Content too large")
UNAVAILABLE = Kind(503, "unavailable", "Service unavailable")
BEHIND = Kind(503, "projection-behind", "Projection behind")
NOT_READY = Kind(503, "not-ready", "Not ready")
SERVER_ERROR = Kind(500, "server-error", "Internal server error")
LEDGER_KINDS: dict[type[LedgerError], Kind] = {
    InvalidValue: INVALID,
    UnknownReference: NOT_FOUND,
    AlreadyExists: Kind(409, "already-exists", "Already exists"),
    NotPermitted: Kind(403, "not-permitted", "Not permitted"),
    DeadlinePassed: Kind(409, "deadline-passed", "Deadline passed"),
    InvalidState: Kind(409, "invalid-state", "Invalid state"),
}


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with the field and the rule of the ledger's error."""

    type: str = Field(examples=[f"{TYPE_PREFIX}not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["technician_id: 12345678901234 is not registered"])
    field: str | None = Field(default=None, examples=["technician_id"])
    rule: str | None = Field(default=None, examples=["technician_id.exists"])
    errors: list[FieldError] | None = Field(
        default=None, description="Every invalid field, for request validation errors"
    )


class ProblemResponse(Response):
    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps({k: v for k, v in content.items() if v is not None})


def problem(kind: Kind, detail: str, headers: Mapping[str, str] | None = None,
            **extra: Any) -> ProblemResponse:
    body = {"type": kind.type, "title": kind.title, "status": kind.status,
            "detail": detail, **extra}
    return ProblemResponse(body, status_code=kind.status, headers=headers)


def kind_of(error: LedgerError) -> Kind:
    for cls in type(error).__mro__:
        if cls in LEDGER_KINDS:
            return LEDGER_KINDS[cls]
    return INVALID


class Unauthenticated(Exception):
    """No bearer token, or one that names no active key."""


class Unavailable(Exception):
    """A dependency of the service (the database) does not answer."""


class ProjectionBehind(Exception):
    """The read models did not reach the requested log position in time (read-your-writes)."""

    def __init__(self, wanted: int, reached: int, waited: float) -> None:
        super().__init__(f"min_position: the read models are at {reached}, behind {wanted}, "
                         f"after waiting {waited:g} s; try again")
        self.wanted = wanted
        self.reached = reached


class NotReady(Exception):
    """The service answers, but its read models may be incomplete: /v1/ready says why, and
    carries the readiness figures as the problem's extension members."""

    def __init__(self, detail: str, readiness: dict[str, Any]) -> None:
        super().__init__(detail)
        self.readiness = readiness


def field_of(location: tuple[int | str, ...]) -> str:
    """'taps.3.tap_id' for ('body', 'taps', 3, 'tap_id'); 'body' for the body as a whole."""
    return ".".join(str(part) for part in location[1:]) or "body"


async def ledger_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, LedgerError)
    return problem(kind_of(error), f"{error.field}: {error.message}", field=error.field,
                   rule=error.rule)


async def validation_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    errors = []
    for item in error.errors():
        json_invalid = item.get("type") == "json_invalid"
        field = "body" if json_invalid else field_of(tuple(item.get("loc", ())))
        message = str(item.get("msg", "is invalid"))
        if json_invalid and item.get("ctx", {}).get("error"):
            message = f"{message}: {item['ctx']['error']}"
        errors.append({"field": field, "message": message})
    first = errors[0] if errors else {"field": "body", "message": "is invalid"}
    return problem(INVALID, f"{first['field']}: {first['message']}", field=first["field"],
                   rule="request.schema", errors=errors)


async def unauthenticated(_: Request, error: Exception) -> Response:
    return problem(UNAUTHENTICATED, str(error) or "a bearer token is required",
                   headers={"WWW-Authenticate": "Bearer"})


def too_large(error: StarletteHTTPException) -> ProblemResponse:
    response = problem(TOO_LARGE, str(error.detail), field="body", rule="body.size")
    response.headers["connection"] = "close"  # the rest of the body is not read
    return response


async def http_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == TOO_LARGE.status:
        return too_large(error)
    kind = Kind(error.status_code, "", HTTPStatus(error.status_code).phrase)
    return problem(kind, str(error.detail), headers=error.headers)


async def database_error(_: Request, error: Exception) -> Response:
    log.error("database unavailable: %s", error)
    return problem(UNAVAILABLE, "the database is unreachable; try again",
                   headers={"Retry-After": "5"})


async def projection_behind(_: Request, error: Exception) -> Response:
    return problem(BEHIND, str(error), headers={"Retry-After": "1"}, field="min_position",
                   rule="min_position.reached")


async def not_ready(_: Request, error: Exception) -> Response:
    assert isinstance(error, NotReady)
    return problem(NOT_READY, str(error), headers={"Retry-After": "5"}, **error.readiness)


async def server_error(_: Request, error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    return problem(SERVER_ERROR, "the server failed; the request may not have been stored")


def install(app: FastAPI) -> None:
    """Answer every error the API can raise as problem+json."""
    app.add_exception_handler(LedgerError, ledger_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Unauthenticated, unauthenticated)
    app.add_exception_handler(ProjectionBehind, projection_behind)
    app.add_exception_handler(NotReady, not_ready)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for database in (Unavailable, InterfaceError, OperationalError, psycopg.OperationalError,
                     sqlite3.OperationalError):
        app.add_exception_handler(database, database_error)
    app.add_exception_handler(Exception, server_error)
