"""Registration over HTTP from an empty ledger, read-your-writes positions, health and readiness."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.actors import Actor, Role
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ADMIN,
    PROBLEM_JSON,
    Api,
    api_fixture,
    api_settings_fixture,
)

PRIME = Actor(Role.PRIME_CONTRACTOR, "100")
SUB = Actor(Role.EMPLOYER, "200")
TECHNICIAN = "12345678901234"
SITE = "10000000000001"

# (acting party, method, path, body, status, event) — in the order a site is set up
SETUP: list[tuple[Actor, str, str, dict[str, Any], int, str]] = [
    (ADMIN, "POST", "/v1/businesses", {"business_id": "100", "name": "鈴木建設"}, 201,
     "Business.Registered"),
    (ADMIN, "POST", "/v1/businesses", {"business_id": "200", "name": "田中鉄筋"}, 201,
     "Business.Registered"),
    (SUB, "POST", "/v1/businesses/200/kentaikyo", {"contract_number": "5511", "since":
                                                    "2025-04-01"}, 200,
     "Business.KentaikyoEnrolled"),
    # 代行申請: the registering business is the new worker's employer (the registration's
    # last event), answered as a claim on a registered worker would be
    (SUB, "POST", "/v1/workers", {"technician_id": TECHNICIAN, "name": "山田 太郎",
                                  "since": "2020-04-01"}, 201, "Worker.EmploymentStarted"),
    (SUB, "POST", f"/v1/workers/{TECHNICIAN}/kentaikyo",
     {"member_number": "778899", "since": "2025-04-01"}, 200, "Worker.KentaikyoEnrolled"),
    (SUB, "POST", f"/v1/workers/{TECHNICIAN}/qualifications",
     {"qualification": "玉掛技能講習", "acquired_on": "2019-05-01"}, 201,
     "Worker.QualificationAdded"),
    (SUB, "POST", f"/v1/workers/{TECHNICIAN}/foreman-training", {"completed_on": "2024-05-01"},
     200, "Worker.ForemanTrainingCompleted"),
    (SUB, "POST", f"/v1/workers/{TECHNICIAN}/social-insurance",
     {"health": "enrolled", "pension": "enrolled", "employment": "enrolled",
      "as_of": "2025-06-01"}, 200, "Worker.SocialInsuranceConfirmed"),
    (SUB, "POST", f"/v1/workers/{TECHNICIAN}/career-certificates",
     {"certifier_business_id": "200", "relation": "employer", "trade": "鉄筋",
      "period_start": "2020-04-01", "period_end": "2024-03-31", "work_days": 900,
      "foreman_days": 100}, 201, "Worker.CareerCertified"),
    (PRIME, "POST", "/v1/sites", {"site_id": SITE, "name": "新宿三丁目ビル", "prime_business_id":
                                  "100", "kentaikyo_method": "electronic",
                                  "opened_on": "2025-04-01"}, 201, "Site.Opened"),
    (PRIME, "POST", f"/v1/sites/{SITE}/subcontracts",
     {"business_id": "200", "parent_business_id": "100"}, 201, "Site.SubcontractAdded"),
    (SUB, "PUT", f"/v1/sites/{SITE}/roster/{TECHNICIAN}",
     {"employer_business_id": "200", "trade": "鉄筋", "position": "職長", "since": "2025-04-01"},
     200, "Site.RosterEntrySet"),
    (PRIME, "POST", "/v1/readers", {"reader_id": "GATE-1", "site_id": SITE}, 201,
     "Reader.Registered"),
    (ADMIN, "POST", "/v1/cards", {"card_id": "04A1B2C3", "technician_id": TECHNICIAN}, 201,
     "Card.Issued"),
    (ADMIN, "POST", "/v1/cards/04A1B2C3/revoke", {"reason": "lost"}, 200, "Card.Revoked"),
    (PRIME, "POST", "/v1/readers/GATE-1/retire", {"reason": "replaced"}, 200,
     "Reader.Retired"),
    (SUB, "POST", f"/v1/workers/{TECHNICIAN}/employments/200/end", {"until": "2025-06-30"}, 200,
     "Worker.EmploymentEnded"),
    (PRIME, "POST", f"/v1/sites/{SITE}/close", {"closed_on": "2025-06-20"}, 200, "Site.Closed"),
]


def test_a_site_is_set_up_over_http_and_each_write_says_where_it_is(api: Api) -> None:
    """Each write answers the log position right after it; the events name who acted."""
    for actor, method, path, body, status, event in SETUP:
        response = api.request(method, path, actor, body)
        assert response.status_code == status, (path, response.text)
        position, last = list(api.ledger.iter_log())[-1]
        assert response.json()["position"] == position, path
        assert (type(last).__qualname__, vars(last)["actor"]) == (event, actor), path


def test_a_response_names_what_was_registered(api: Api) -> None:
    api.post("/v1/businesses", ADMIN, {"business_id": "100", "name": "鈴木建設"})
    site = api.post("/v1/sites", PRIME, {"site_id": SITE, "name": "x", "prime_business_id": "100",
                                         "kentaikyo_method": "stamp", "opened_on": "2025-04-01"})
    assert site.json() == {"site_id": SITE, "position": api.ledger.log_position()}
    reader = api.post("/v1/readers", PRIME, {"reader_id": "GATE-1", "site_id": SITE})
    assert reader.json() == {"reader_id": "GATE-1", "site_id": SITE,
                             "position": api.ledger.log_position()}


def test_registering_twice_is_a_409(api: Api) -> None:
    first = api.post("/v1/businesses", ADMIN, {"business_id": "100", "name": "鈴木建設"})
    second = api.post("/v1/businesses", ADMIN, {"business_id": "100", "name": "鈴木建設"})
    assert (first.status_code, second.status_code) == (201, 409)
    assert second.headers["content-type"] == PROBLEM_JSON
    assert second.json() == {
        "type": "urn:ccus-ledger:problem:already-exists", "title": "Already exists",
        "status": 409, "detail": "business_id: 100 is registered already",
        "field": "business_id", "rule": "business_id.unique"}


def test_an_unknown_field_is_a_422_naming_it(api: Api) -> None:
    response = api.post("/v1/businesses", ADMIN, {"business_id": "100", "name": "x", "vip": 1})
    assert response.status_code == 422
    assert response.json()["field"] == "vip"
    assert response.json()["errors"] == [{"field": "vip", "message": "Extra inputs are not "
                                                                      "permitted"}]


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b'"x"', b"\xff\xfe", b"{" * 5000],
                         ids=["empty", "null", "array", "string", "not-utf8", "deep"])
def test_a_body_that_is_not_an_object_is_a_422(api: Api, body: bytes) -> None:
    response = api.client.post("/v1/businesses", content=body, headers={
        "Authorization": f"Bearer {api.token(ADMIN)}", "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON


def test_health_and_readiness_need_no_key(api: Api) -> None:
    assert api.client.get("/v1/health").json() == {"status": "ok"}
    api.post("/v1/businesses", ADMIN, {"business_id": "100", "name": "鈴木建設"})
    ready = api.client.get("/v1/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["log_position"]) == ("ready", api.ledger.log_position())
    assert set(body) == {"status", "log_position", "projection_position", "lag_events",
                         "lag_seconds", "projecting_here", "projection_error",
                         "projection_failed_at", "projection_failed_in", "quarantined",
                         "scheduler_running", "job_runs",
                         "read_model_check", "read_replicas"}  # test_api_freshness checks them
    assert body["read_replicas"] == []  # none configured


def test_not_ready_without_the_keys_table(api: Api) -> None:
    api.keys._execute("DROP TABLE api_keys")
    response = api.client.get("/v1/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == "urn:ccus-ledger:problem:unavailable"


def test_unknown_paths_and_methods_are_problems_too(api: Api) -> None:
    missing = api.client.get("/v1/nothing-here")
    wrong_method = api.client.get("/v1/taps")
    assert (missing.status_code, wrong_method.status_code) == (404, 405)
    assert missing.headers["content-type"] == wrong_method.headers["content-type"] == PROBLEM_JSON
    assert missing.json()["type"] == "about:blank"
