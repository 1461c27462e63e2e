"""Errors → problem+json: each ledger error's status, and the field a validation error names."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from fastapi.exceptions import RequestValidationError

from api.problems import field_of, hidden, kind_of, ledger_error, validation_error
from ledger.errors import (
    AlreadyExists,
    DeadlinePassed,
    InvalidState,
    InvalidValue,
    LedgerError,
    NotPermitted,
    UnknownReference,
)


@pytest.mark.parametrize(("error", "status", "slug"), [
    (InvalidValue, 422, "invalid-value"),
    (UnknownReference, 404, "not-found"),
    (AlreadyExists, 409, "already-exists"),
    (NotPermitted, 403, "not-permitted"),
    (DeadlinePassed, 409, "deadline-passed"),
    (InvalidState, 409, "invalid-state"),
])
def test_each_ledger_error_has_its_status(
    error: type[LedgerError], status: int, slug: str
) -> None:
    response = asyncio.run(ledger_error(None, error("site_id", "site.rule", "is wrong")))  # type: ignore[arg-type]
    assert response.status_code == status
    assert response.media_type == "application/problem+json"
    assert orjson.loads(response.body) == {
        "type": f"urn:ccus-ledger:problem:{slug}", "title": kind_of(error("f", "r", "m")).title,
        "status": status, "detail": "site_id: is wrong", "field": "site_id", "rule": "site.rule"}


def test_a_subclass_takes_its_parents_status() -> None:
    class ReaderUnknown(UnknownReference):
        pass

    assert kind_of(ReaderUnknown("reader_id", "r", "m")).status == 404


def test_hidden_is_what_the_ledger_says_of_something_absent() -> None:
    error = hidden("technician_id", "12345678901234")
    assert isinstance(error, UnknownReference)
    assert (error.field, error.rule, error.message) == (
        "technician_id", "technician_id.exists", "12345678901234 is not registered")


@pytest.mark.parametrize(("location", "field"), [
    (("body", "taps", 3, "tap_id"), "taps.3.tap_id"),
    (("path", "technician_id"), "technician_id"),
    (("body",), "body"),
])
def test_a_validation_error_names_the_field_without_its_source(
    location: tuple[int | str, ...], field: str
) -> None:
    assert field_of(location) == field


def test_a_validation_problem_lists_every_field() -> None:
    error = RequestValidationError([
        {"type": "missing", "loc": ("body", "since"), "msg": "Field required", "input": {}},
        {"type": "string_type", "loc": ("body", "name"), "msg": "Input should be a valid string",
         "input": 1},
    ])
    body = orjson.loads(asyncio.run(validation_error(None, error)).body)  # type: ignore[arg-type]
    assert body["field"] == "since"
    assert body["detail"] == "since: Field required"
    assert [e["field"] for e in body["errors"]] == ["since", "name"]


def test_a_json_syntax_error_names_the_body() -> None:
    error = RequestValidationError([{"type": "json_invalid", "loc": ("body", 9),
                                     "msg": "JSON decode error", "input": {},
                                     "ctx": {"error": "Expecting value"}}])
    body = orjson.loads(asyncio.run(validation_error(None, error)).body)  # type: ignore[arg-type]
    assert (body["field"], body["detail"]) == ("body", "body: JSON decode error: Expecting value")
