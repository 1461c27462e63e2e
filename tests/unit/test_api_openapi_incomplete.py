"""`Ledger-Incomplete` (Issue 12: reads of a worker or site affected by a quarantined event) is
declared in the OpenAPI document on every read that can send it, and on no other operation."""

from __future__ import annotations

from typing import Any

from api.main import create_app

DOCUMENT: dict[str, Any] = create_app().openapi()  # no lifespan: no database is opened

# Every read about one worker or one site (`api.reading.Reads` sends the header for them).
SENDS_IT = {
    "/v1/workers/{technician_id}/records",
    "/v1/workers/{technician_id}/records.csv",
    "/v1/workers/{technician_id}/career",
    "/v1/workers/{technician_id}/levels",
    "/v1/workers/{technician_id}/career-proof",
    "/v1/workers/{technician_id}/kentaikyo",
    "/v1/workers/{technician_id}/employment-requests",
    "/v1/workers/{technician_id}/career-certificate-proposals",
    "/v1/sites/{site_id}/attendance",
    "/v1/sites/{site_id}/on-site-now",
    "/v1/sites/{site_id}/missing-exits",
    "/v1/sites/{site_id}/exceptions",
    "/v1/sites/{site_id}/kentaikyo",
    "/v1/sites/{site_id}/records.csv",
    "/v1/audit/work-records/{technician_id}/{site_id}/{work_date}/events",
    "/v1/workers/{technician_id}/expiry-alerts",
    "/v1/sites/{site_id}/expiry-alerts",
    "/v1/sites/{site_id}/kentaikyo/coverage",
    "/v1/sites/{site_id}/roster",
    "/v1/workers/{technician_id}/time-on-site",
    "/v1/workers/{technician_id}/time-on-site.csv",
    "/v1/workers/{technician_id}/overtime",
    "/v1/sites/{site_id}/time-on-site",
    "/v1/sites/{site_id}/closures",
    "/v1/sites/{site_id}/labour-summary",
    "/v1/sites/{site_id}/labour-summary.csv",
}


def declared() -> dict[tuple[str, str], dict[str, Any]]:
    return {(method, path): response["headers"]["Ledger-Incomplete"]
            for path, item in DOCUMENT["paths"].items() for method, operation in item.items()
            for status, response in operation["responses"].items()
            if "Ledger-Incomplete" in response.get("headers", {})}


def test_every_read_about_a_worker_or_site_declares_the_header() -> None:
    assert set(declared()) == {("get", path) for path in SENDS_IT}


def test_the_header_is_described_with_its_form() -> None:
    for header in declared().values():
        assert header["schema"]["type"] == "string"
        assert "quarantined" in header["description"]


def test_it_is_declared_on_the_success_answer() -> None:
    for path in SENDS_IT:
        responses = DOCUMENT["paths"][path]["get"]["responses"]
        assert "Ledger-Incomplete" in responses["200"]["headers"]
        assert all("headers" not in responses[s] for s in responses if not s.startswith("2"))
