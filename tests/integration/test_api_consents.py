"""Reads of what waits for a worker's consent (Issue 13), on both databases: the worker and
those who answer for them see the claims on the worker; the claimant sees its own claims once
answered, and nothing else of the worker; a pending claim never tells the claimant whether the
worker is registered; admins see everything."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from api.config import ApiSettings
from ledger.actors import Actor, Role
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ADMIN,
    Api,
    World,
    api_fixture,
    build_world,
)


@pytest.fixture(name="api_settings")
def api_settings_fixture() -> ApiSettings:
    return ApiSettings(reader_cache_seconds=30.0)


def get(api: Api, path: str, actor: Actor) -> Any:
    """One answer, read once the projection has caught up with the log."""
    return api.client.get(path, params={"min_position": api.ledger.log_position()},
                          headers={"Authorization": f"Bearer {api.token(actor)}"})


def items(api: Api, path: str, actor: Actor, **query: Any) -> list[dict[str, Any]]:
    """Every item of a list, one per page, read once the projection has caught up."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 1, "min_position": api.ledger.log_position(), **query}
        if cursor:
            params["cursor"] = cursor
        answer = api.client.get(path, params=params,
                                headers={"Authorization": f"Bearer {api.token(actor)}"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += body["items"]
        if not (cursor := body["next_cursor"]):
            return found


def test_the_worker_and_their_employer_see_what_awaits_the_workers_answer(api: Api) -> None:
    w = build_world(api.ledger, 1)  # spare's employment claim and prime's certificate wait
    for reader in (Actor(Role.WORKER, w.worker), Actor(Role.EMPLOYER, w.sub), ADMIN):
        requests = items(api, f"/v1/workers/{w.worker}/employment-requests", reader,
                         status="pending")
        assert [(r["business_id"], r["status"], r["decided_position"]) for r in requests] == [
            (w.spare, "pending", None)]
        proposals = items(api, f"/v1/workers/{w.worker}/career-certificate-proposals", reader)
        assert [(p["certificate_id"], p["certifier_business_id"], p["status"], p["basis"],
                 p["work_days"]) for p in proposals] == [
            (str(w.certificate), w.prime, "pending", "施工体制台帳 (2019)", 200)]


def test_after_the_answer_each_side_sees_the_status(api: Api) -> None:
    w = build_world(api.ledger, 1)
    me = Actor(Role.WORKER, w.worker)
    api.ledger.confirm_employment(w.worker, w.spare, me)
    api.ledger.decline_career_certificate(w.worker, str(w.certificate), me)
    assert items(api, f"/v1/workers/{w.worker}/employment-requests", me, status="pending") == []
    [request] = items(api, f"/v1/businesses/{w.spare}/employment-requests",
                      Actor(Role.EMPLOYER, w.spare))
    assert request["status"] == "confirmed" and request["decided_position"] is not None
    [proposal] = items(api, f"/v1/businesses/{w.prime}/career-certificate-proposals",
                       Actor(Role.PRIME_CONTRACTOR, w.prime))
    assert proposal["status"] == "declined"
    assert set(proposal) == {
        "certificate_id", "technician_id", "certifier_business_id", "relation", "trade",
        "period_start", "period_end", "work_days", "foreman_days", "team_leader_days", "basis",
        "status", "proposed_position", "decided_position"}  # nothing else of the worker


def test_a_pending_claim_tells_the_claimant_nothing(api: Api) -> None:
    """A claim on a registered worker and one on an unregistered ID are both answered 201; the
    claimant's list shows neither while the first waits, so it cannot tell them apart. Admin
    sees the pending one."""
    w = build_world(api.ledger, 1)
    other = Actor(Role.EMPLOYER, w.other)
    for technician in (w.worker, f"{w.k:04d}9999999999"):
        answer = api.post(f"/v1/workers/{technician}/employments", other,
                          {"business_id": w.other, "since": "2025-06-01"})
        assert answer.status_code == 201, answer.text
    path = f"/v1/businesses/{w.other}/employment-requests"
    assert items(api, path, other) == []
    assert items(api, path, other, status="pending") == []
    assert [(r["technician_id"], r["status"]) for r in items(api, path, ADMIN)] == [
        (w.worker, "pending")]
    # nor does the worker's side tell it: it answers as for an absent worker
    absent = get(api, f"/v1/workers/{w.k:04d}9999999999/employment-requests", other)
    hidden = get(api, f"/v1/workers/{w.worker}/employment-requests", other)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.text.replace(w.worker, "<id>") == absent.text.replace(
        f"{w.k:04d}9999999999", "<id>")


def test_a_former_employer_no_longer_answers_nor_reads(api: Api) -> None:
    w = build_world(api.ledger, 1)
    api.ledger.leave_employer(w.worker, w.sub, date(2025, 6, 1), ADMIN)
    answer = get(api, f"/v1/workers/{w.worker}/employment-requests",
                 Actor(Role.EMPLOYER, w.sub))
    assert answer.status_code == 404, answer.text


def test_another_business_reads_no_business_s_claims(api: Api) -> None:
    w = build_world(api.ledger, 1)
    answer = get(api, f"/v1/businesses/{w.spare}/employment-requests",
                 Actor(Role.EMPLOYER, w.other))
    assert answer.status_code == 404 and answer.json()["field"] == "business_id", answer.text
