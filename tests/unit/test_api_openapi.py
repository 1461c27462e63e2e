"""The OpenAPI document is complete: every operation's answers are declared, errors as problems."""

from __future__ import annotations

from typing import Any

import pytest

from api.main import create_app

DOCUMENT: dict[str, Any] = create_app().openapi()  # no lifespan: no database is opened
OPERATIONS = [(path, method, operation) for path, item in DOCUMENT["paths"].items()
              for method, operation in item.items()]
PUBLIC = {"/v1/health", "/v1/ready", "/v1/seals", "/v1/seals/public-key", "/v1/seals/consistency",
          "/v1/seals/{day}", "/v1/phone-taps"}
# A phone's tap needs no key (its passkey signs it): refused for what the passkey, the code or
# the body lacks.
PHONE_TAP_ANSWERS = {"403", "404", "409", "413", "422", "503"}


def test_everything_is_under_v1() -> None:
    assert all(path.startswith("/v1/") for path in DOCUMENT["paths"])


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS,
                         ids=[f"{m.upper()} {p}" for p, m, _ in OPERATIONS])
def test_each_operation_declares_its_answers(path: str, method: str, operation: Any) -> None:
    responses = operation["responses"]
    success = [status for status in responses if status.startswith("2")]
    assert len(success) == 1
    if path.endswith(".csv"):  # downloads for Excel
        assert set(responses[success[0]]["content"]) == {"text/csv"}
    else:
        assert "$ref" in responses[success[0]]["content"]["application/json"]["schema"]
    errors = {status for status in responses if not status.startswith("2")}
    expected = {"503"} if path == "/v1/ready" else PHONE_TAP_ANSWERS if path == "/v1/phone-taps" \
        else set() if path in PUBLIC else {"401", "403", "413", "422", "503"}
    assert expected <= errors
    for status in errors:
        assert responses[status]["content"] == {"application/problem+json": {
            "schema": {"$ref": "#/components/schemas/Problem"}}}, status
    assert operation.get("summary") and operation.get("description")
    if path not in PUBLIC:
        assert operation["security"] == [{"HTTPBearer": []}]


def test_no_default_validation_error_schema_is_left() -> None:
    assert "HTTPValidationError" not in DOCUMENT["components"]["schemas"]
    assert {"Problem", "FieldError"} <= set(DOCUMENT["components"]["schemas"])


def test_the_tap_contract_is_documented() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    tap = schemas["TapIn"]
    assert set(tap["required"]) == {"tap_id", "reader_id", "reader_time"}
    assert set(tap["properties"]) == {"tap_id", "reader_id", "card_id", "technician_id",
                                      "direction", "reader_time"}
    assert schemas["TapBatchCreate"]["properties"]["taps"]["maxItems"] == 5000
    assert schemas["TapBatchCreate"]["properties"]["taps"]["items"] == {
        "$ref": "#/components/schemas/TapIn"}
    assert all("default" not in tap["properties"][field] for field in tap["required"])
    assert schemas["TapResult"]["properties"]["status"]["enum"] == [
        "accepted", "duplicate", "flagged", "conflict", "rejected"]
