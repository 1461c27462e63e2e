"""The service runs the projection: a write's `position` given as `min_position` reads the write
back; a projection that does not get there in time is a 503 with Retry-After; `/v1/ready` tells
the lag, the projector and the job runs; one process per database projects. Both databases."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.config import ApiSettings
from api.main import create_app
from api.reading import ReadPool
from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.jobs.scheduler import Jobs
from projections.store import ReadStore
from tests.api_read_support import csv_rows
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ADMIN,
    AUDITOR,
    PROBLEM_JSON,
    WORK_DATE,
    Api,
    World,
    api_fixture,
    api_settings_fixture,
    build_world,
    tap,
)

JUNE = "?date_from=2025-06-01&date_to=2025-06-30"


@pytest.fixture
def world(api: Api) -> World:
    return build_world(api.ledger, 1)


def eventually(check: Callable[[], bool], tries: int = 200) -> None:
    """Polls a condition another thread brings about; fails after `tries` polls."""
    for _ in range(tries):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("the condition never held")


def records_read_at(api: Api, w: World, actor: Actor, position: int) -> list[Any]:
    response = api.request("GET", f"/v1/workers/{w.worker}/records{JUNE}&min_position="
                           f"{position}", actor)
    assert response.status_code == 200, response.text
    assert response.json()["projection_position"] >= position
    items: list[Any] = response.json()["items"]
    return items


def test_a_tap_read_back_with_the_position_its_write_answered(api: Api, world: World) -> None:
    sent = api.post("/v1/taps", Actor(Role.READER, world.reader), {"taps": [tap(world, 1)]})
    items = records_read_at(api, world, Actor(Role.WORKER, world.worker), sent.json()["position"])
    assert [(r["work_date"], r["source"], r["status"]) for r in items if r["source"] == "card"] \
        == [("2025-06-20", "card", "counted")]


def test_an_approved_entry_counts_once_read_with_its_position(api: Api, world: World) -> None:
    me = Actor(Role.WORKER, world.worker)
    pending = records_read_at(api, world, me, api.ledger.log_position())
    assert [(r["work_date"], r["status"]) for r in pending] == [(str(WORK_DATE), "pending")]
    approved = api.post(f"/v1/manual-entries/{world.entry}/approve",
                        Actor(Role.PRIME_CONTRACTOR, world.prime))
    assert approved.status_code == 200
    position = approved.json()["position"]
    assert [(r["work_date"], r["status"]) for r in records_read_at(api, world, me, position)] \
        == [(str(WORK_DATE), "counted")]
    career = api.request("GET", f"/v1/workers/{world.worker}/career{JUNE}&min_position="
                         f"{position}", me).json()
    assert (career["work_days"], career["record_count"]) == (1, 1)


@pytest.mark.parametrize("api_settings", [ApiSettings(projection=False, read_wait_seconds=0.1)])
def test_a_projection_behind_min_position_is_a_503_with_retry_after(
    api: Api, world: World, settings: Settings
) -> None:
    head = api.ledger.log_position()
    path = f"/v1/workers/{world.worker}/career{JUNE}&min_position={head}"
    behind = api.request("GET", path, ADMIN)
    assert (behind.status_code, behind.headers["content-type"]) == (503, PROBLEM_JSON)
    assert behind.headers["retry-after"] == "1"
    assert behind.json()["type"] == "urn:ccus-ledger:problem:projection-behind"
    assert (behind.json()["field"], behind.json()["rule"]) == ("min_position",
                                                               "min_position.reached")
    store = ReadStore(settings)
    LogFollower(api.ledger, store).catch_up()  # another process projects meanwhile
    store.close()
    assert api.request("GET", path, ADMIN).status_code == 200


@pytest.mark.parametrize("api_settings", [ApiSettings(projection=False)])
def test_ready_tells_the_lag_in_events_and_seconds(
    api: Api, world: World, settings: Settings, now: clock.FixedClock
) -> None:
    now.advance(timedelta(seconds=90))
    lagging = api.client.get("/v1/ready").json()
    head = api.ledger.log_position()
    assert (lagging["log_position"], lagging["projection_position"]) == (head, 0)
    assert (lagging["lag_events"], lagging["lag_seconds"]) == (head, 90.0)
    assert (lagging["projecting_here"], lagging["scheduler_running"]) == (False, False)
    store = ReadStore(settings)
    LogFollower(api.ledger, store).catch_up()
    store.close()
    caught_up = api.client.get("/v1/ready").json()
    assert (caught_up["lag_events"], caught_up["lag_seconds"]) == (0, 0.0)


def test_ready_shows_recent_job_runs(api: Api, world: World, settings: Settings) -> None:
    result = Jobs(api.ledger, settings).run("close-day", "2025-06-19")
    assert result.outcome == "succeeded"
    runs = api.client.get("/v1/ready").json()["job_runs"]
    assert [(r["job"], r["period"], r["outcome"]) for r in runs] == [
        ("close-day", "2025-06-19", "succeeded")]
    assert "detail" not in runs[0]  # no key is needed here: a failure's message may name a worker


def test_the_app_projects_while_it_runs_and_stops_on_shutdown(
    settings: Settings, world_on_ledger: World
) -> None:
    app = create_app(settings, ApiSettings())
    with TestClient(app) as client:
        eventually(lambda: client.get("/v1/ready").json()["lag_events"] == 0)
        assert client.get("/v1/ready").json()["projecting_here"] is True
        service = app.state.projection
    assert service.running is False


def test_one_process_per_database_projects_and_another_takes_over(
    settings: Settings, world_on_ledger: World
) -> None:
    first, second = create_app(settings, ApiSettings()), create_app(settings, ApiSettings())
    with ExitStack() as first_running:
        one = first_running.enter_context(TestClient(first))
        eventually(lambda: one.get("/v1/ready").json()["projecting_here"])
        with TestClient(second) as two:
            assert two.get("/v1/ready").json()["projecting_here"] is False
            first_running.close()  # the projecting process goes away; the other takes over
            eventually(lambda: two.get("/v1/ready").json()["projecting_here"])


def test_every_process_tells_the_projections_failure_until_a_batch_commits_again(
    settings: Settings, world_on_ledger: World
) -> None:
    """As with `ledger serve --workers N`: one process projects, another (a worker) does not,
    and the worker's /v1/ready tells the projecting process's failure: its kind, when and
    where, not its message (no key is needed there). A read model gone missing fails every
    batch; back again, the next batch commits and the failure is cleared."""
    rename_table(settings, "work_records", "work_records_away")
    projecting = create_app(settings, ApiSettings())
    worker = create_app(settings, ApiSettings(projection=False))
    with TestClient(projecting) as one, TestClient(worker) as two:
        eventually(lambda: two.get("/v1/ready").json()["projection_error"] is not None)
        ready = two.get("/v1/ready").json()
        assert ready["projecting_here"] is False and ready["lag_events"] > 0
        assert ready["projection_error"] in {"UndefinedTable", "OperationalError"}
        assert ready["projection_failed_in"].endswith(f":{os.getpid()}")
        assert ready["projection_failed_at"] is not None
        assert "work_records" not in str(ready)  # the message stays in the log
        assert one.get("/v1/ready").json()["projection_error"] == ready["projection_error"]
        rename_table(settings, "work_records_away", "work_records")
        eventually(lambda: two.get("/v1/ready").json()["lag_events"] == 0)
        eventually(lambda: two.get("/v1/ready").json()["projection_error"] is None)
        assert two.get("/v1/ready").json()["projection_failed_at"] is None


def rename_table(settings: Settings, name: str, new_name: str) -> None:
    store = ReadStore(settings)
    try:
        with store.transaction() as tx:
            tx.execute(f"ALTER TABLE {name} RENAME TO {new_name}")
    finally:
        store.close()


def test_the_scheduler_runs_with_the_app_when_asked_and_stops_with_it(
    settings: Settings, world_on_ledger: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_JOBS_OUTPUT_DIR", str(tmp_path))
    app = create_app(settings, ApiSettings(scheduler=True))
    with TestClient(app) as client:
        assert client.get("/v1/ready").json()["scheduler_running"] is True
        scheduler = app.state.scheduler
    assert scheduler.running is False
    off = create_app(settings, ApiSettings())
    with TestClient(off) as client:
        assert client.get("/v1/ready").json()["scheduler_running"] is False


@pytest.fixture
def world_on_ledger(ledger: Ledger, now: clock.FixedClock) -> World:
    """A world in the database, for tests that make apps of their own (no other app runs)."""
    return build_world(ledger, 2)


def test_a_read_that_cannot_be_logged_is_not_answered(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(api.app.state.audit_reads, "record", broken)
    path = f"/v1/workers/{world.worker}/career{JUNE}&min_position={api.ledger.log_position()}"
    refused = api.request("GET", path, AUDITOR)
    assert (refused.status_code, refused.json()["type"]) == (
        503, "urn:ccus-ledger:problem:unavailable")
    assert api.request("GET", path, Actor(Role.WORKER, world.worker)).status_code == 200


def test_the_audit_read_log_is_append_only(api: Api, world: World, settings: Settings) -> None:
    assert api.request("GET", "/v1/audit/events", AUDITOR).status_code == 200
    if settings.is_postgres:
        with psycopg.connect(settings.database_url) as conn, pytest.raises(psycopg.Error,
                                                                          match="append-only"):
            conn.execute("UPDATE audit_reads SET actor = 'nobody'")
        with psycopg.connect(settings.database_url) as conn, pytest.raises(psycopg.Error,
                                                                          match="append-only"):
            conn.execute("DELETE FROM audit_reads")
    else:
        with sqlite3.connect(settings.sqlite_path) as conn:
            for statement in ("UPDATE audit_reads SET actor = 'nobody'", "DELETE FROM audit_reads"):
                with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                    conn.execute(statement)


def test_a_csv_cell_that_excel_would_run_as_a_formula_is_quoted(api: Api, world: World) -> None:
    me = Actor(Role.WORKER, world.worker)
    entry = api.post("/v1/manual-entries", me, {
        "technician_id": world.worker, "site_id": world.site, "work_date": "2025-06-18",
        "employer_business_id": world.sub, "trade": "鉄筋", "position": "一般",
        "work_content": '=HYPERLINK("http://example.invalid","x")'})
    assert entry.status_code == 201, entry.text
    response = api.request("GET", f"/v1/workers/{world.worker}/records.csv{JUNE}&min_position="
                           f"{entry.json()['position']}", me)
    contents = [row["作業内容"] for row in csv_rows(response) if row["就業日"] == "2025-06-18"]
    assert contents == ['\'=HYPERLINK("http://example.invalid","x")']


def test_the_apis_read_connections_refuse_writes_and_see_each_commit(settings: Settings) -> None:
    """The API's query connections (`ReadStore(read_only=True)`): a write is refused; a read on
    a connection that read before sees what was committed since."""
    insert = "INSERT INTO {businesses} (business_id, name, positions) VALUES ('1', 'x', '[]')"
    pool = ReadPool(settings, 1, 5.0)
    writer = ReadStore(settings)
    try:
        with pool.store() as store:
            with pytest.raises((psycopg.Error, sqlite3.Error)), store.read() as tx:
                tx.execute(insert)
            with store.read() as tx:
                assert tx.execute("SELECT count(*) FROM {businesses}") == [(0,)]
        with writer.transaction() as tx:
            tx.execute(insert)
        with pool.store() as store, store.read() as tx:  # the same connection, lent again
            assert tx.execute("SELECT business_id FROM {businesses}") == [("1",)]
    finally:
        writer.close()
        pool.close()
