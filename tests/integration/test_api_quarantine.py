"""Over HTTP, on both databases: poison text is refused naming the field, a tap from a wild reader
clock is stored and flagged, and a quarantined event makes /v1/ready answer 503 and the reads
about its worker or site say they may be incomplete, until a retry projects it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from api.config import ApiSettings
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.leader import ProjectionService
from projections.quarantine_retry import retry
from projections.store import ReadStore
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ADMIN,
    PROBLEM_JSON,
    Api,
    World,
    api_fixture,
    api_settings_fixture,
    build_world,
    tap,
)
from tests.integration.test_quarantine import FailingAt

NOT_PROJECTING = [ApiSettings(projection=False)]
JUNE = "date_from=2025-06-01&date_to=2025-06-30"


@pytest.fixture
def world(api: Api) -> World:
    return build_world(api.ledger, 1)


def eventually(check: Callable[[], bool], tries: int = 200) -> None:
    for _ in range(tries):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("the condition never held")


@pytest.mark.parametrize("poison", ["\x00", "\x1b[2J", "\x9b", "\n"])
def test_a_name_with_a_control_character_is_refused_naming_the_field(
    api: Api, poison: str
) -> None:
    """Regression: on PostgreSQL a NUL in a name was answered 201, then stopped the projection."""
    before = api.ledger.log_position()
    response = api.post("/v1/businesses", ADMIN, {"business_id": "100",
                                                  "name": f"鈴木{poison}建設"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert "name" in str(body), body
    assert "control character" in str(body), body
    assert api.ledger.log_position() == before  # nothing written


def test_a_rejection_reason_may_span_lines_but_not_hold_a_nul(api: Api, world: World) -> None:
    prime = Actor(Role.PRIME_CONTRACTOR, world.prime)
    refused = api.post(f"/v1/manual-entries/{world.entry}/reject", prime,
                       {"reason": "not on site\x00"})
    assert refused.status_code == 422 and "reason" in refused.text, refused.text
    assert api.post(f"/v1/manual-entries/{world.entry}/reject", prime,
                    {"reason": "not on site;\nno tap at the gate"}).status_code == 200


@pytest.mark.parametrize("reader_time", ["9999-12-31T23:59:59+09:00", "0001-01-01T00:00:00+09:00",
                                         "1970-01-01T09:00:00+09:00"])
def test_a_tap_from_a_wild_reader_clock_is_stored_flagged_and_projected(
    api: Api, world: World, reader_time: str
) -> None:
    gate = Actor(Role.READER, world.reader)
    response = api.post("/v1/taps", gate, {"taps": [tap(world, 1, reader_time=reader_time),
                                                    tap(world, 2)]})
    results = response.json()["results"]
    assert [(r["status"], r["flags"]) for r in results] == [
        ("flagged", ["clock_skew"]), ("accepted", [])]
    position = response.json()["position"]
    records = api.request("GET", f"/v1/workers/{world.worker}/records?{JUNE}"
                          f"&min_position={position}", Actor(Role.WORKER, world.worker))
    assert records.status_code == 200, records.text  # the projection got past it
    ready = api.client.get("/v1/ready")
    assert (ready.status_code, ready.json()["status"], ready.json()["quarantined"]) == (
        200, "ready", [])


@pytest.mark.parametrize("api_settings", NOT_PROJECTING)
def test_a_quarantined_event_makes_ready_503_and_its_reads_incomplete_until_retried(
    api: Api, world: World, settings: Settings
) -> None:
    gate = Actor(Role.READER, world.reader)
    api.post("/v1/taps", gate, {"taps": [tap(world, 1)]})
    poison = api.ledger.log_position()
    api.post("/v1/taps", gate, {"taps": [tap(world, 2, direction="out",
                                              reader_time="2025-06-20T08:30:00+09:00")]})
    project(api, settings, FailingAt(poison))

    ready = api.client.get("/v1/ready")
    assert ready.status_code == 503 and ready.headers["content-type"] == PROBLEM_JSON
    body = ready.json()
    assert body["type"] == "urn:ccus-ledger:problem:not-ready"
    assert f"position {poison} (Tap.Recorded, worker {world.worker}, site {world.site})" in (
        body["detail"])
    assert body["lag_events"] == 0  # it went on past it
    [held] = body["quarantined"]
    assert (held["position"], held["event_type"], held["error_kind"]) == (
        poison, "Tap.Recorded", "OverflowError")
    assert (held["technician_id"], held["site_id"], held["attempts"]) == (
        world.worker, world.site, 1)
    assert "error_message" not in held  # no key is needed here: it stays with the CLI

    worker, prime = Actor(Role.WORKER, world.worker), Actor(Role.PRIME_CONTRACTOR, world.prime)
    reads = {
        "records": (f"/v1/workers/{world.worker}/records?{JUNE}", worker),
        "career": (f"/v1/workers/{world.worker}/career?{JUNE}", worker),
        "records.csv": (f"/v1/workers/{world.worker}/records.csv?{JUNE}", worker),
        "attendance": (f"/v1/sites/{world.site}/attendance?work_date=2025-06-20", prime),
    }
    for name, (path, actor) in reads.items():
        response = api.request("GET", path, actor)
        assert response.status_code == 200, (name, response.text)
        assert response.headers.get("Ledger-Incomplete") == str(poison), name
    other = api.request("GET", f"/v1/workers/{world.other_worker}/records?{JUNE}",
                        Actor(Role.WORKER, world.other_worker))
    assert other.status_code == 200 and "Ledger-Incomplete" not in other.headers

    outcome = retry(api.ledger, settings)
    assert outcome.projected == [poison]
    assert api.client.get("/v1/ready").status_code == 200
    eventually(lambda: "Ledger-Incomplete" not in api.request(
        "GET", f"/v1/workers/{world.worker}/records?{JUNE}", worker).headers)


def project(api: Api, settings: Settings, projection: Any) -> None:
    store = ReadStore(settings)
    try:
        LogFollower(api.ledger, store, projection).catch_up()
    finally:
        store.close()


def test_the_service_logs_a_repeated_failure_once_not_a_traceback_a_second(
    settings: Settings, now: Any, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: a stopped projection filled the log with a traceback every second."""
    monkeypatch.setattr("projections.leader.RETRY_SECONDS", 0.01)
    caplog.set_level(logging.DEBUG, logger="projections.leader")
    ledger = Ledger(settings)
    build_world(ledger, 1)
    rename(settings, "work_records", "work_records_away")
    service = ProjectionService(ledger, settings)
    service.start()
    try:
        eventually(lambda: sum("still failing" in r.message for r in caplog.records) >= 5)
        rename(settings, "work_records_away", "work_records")
        eventually(lambda: any("recovered" in r.message for r in caplog.records))
    finally:
        service.stop()
        ledger.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None, errors
    assert "work_records" in errors[0].getMessage()


def rename(settings: Settings, name: str, new_name: str) -> None:
    store = ReadStore(settings)
    try:
        with store.transaction() as tx:
            tx.execute(f"ALTER TABLE {name} RENAME TO {new_name}")
    finally:
        store.close()
