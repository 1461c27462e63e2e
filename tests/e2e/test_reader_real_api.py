"""The gate reader against the real ledger, end to end: `ledger-reader` processes deliver over
HTTP on 127.0.0.1 to `ledger serve` (uvicorn, projection, scheduler) on a fresh PostgreSQL
database. Keys come from the `ledger` CLI; the business, site, reader, workers and cards are
registered through the API with an admin key. The truth is the ledger's log (`Ledger.iter_log`),
and the API's own answers (per-tap results, `/v1/audit/events`, `/v1/ready`, attendance) must
agree with it.

No step waits on a clock: each wait ends when a process says something, answers or exits.
"""

from __future__ import annotations

import random
import signal
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.domain.registry import DirectionMode
from ledger.domain.taps import tap_aggregate_id
from readers.simulator import plan_day, worker_cards
from readers.spool import Spool, SpoolError
from tests.pg import free_port
from tests.readers_support.processes import Agent, wait_for
from tests.readers_support.real_api import (
    HoldingProxy,
    LedgerServer,
    LoggedTap,
    api_log,
    client,
    ledger_env,
    log_head,
    logged_taps,
    new_token,
    tap_count,
)

pytestmark = pytest.mark.slow
SITE, READER, DAY = "10000000000001", "GATE-1", "2025-06-02"  # a past day: no clock-skew flags
CARDHOLDERS = 40  # simulated workers 0..39 have a registered worker and card; the rest do not
BATCH = 20


def technician(n: int) -> str:
    return f"{90_000_000_000_000 + n}"


REGISTERED_CARDS = {card.card_id for card in worker_cards(SITE, CARDHOLDERS)}


@dataclass
class Deployment:
    """A ledger on a fresh PostgreSQL database, set up and then stopped: nothing listens on
    `port` until a test calls `serve`."""

    database_url: str
    env: dict[str, str]
    port: int
    admin: str
    reader: str
    folder: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, name: str) -> LedgerServer:
        return LedgerServer(self.env, self.port, self.folder / f"{name}.log")


def register(api: httpx.Client) -> None:
    """A prime contractor, its site, the gate reader at the site, and CARDHOLDERS workers each
    with the card the simulator presents for them."""
    steps: list[tuple[str, dict[str, Any]]] = [
        ("/v1/businesses", {"business_id": "100", "name": "鈴木建設"}),
        ("/v1/sites", {"site_id": SITE, "name": "新宿現場", "prime_business_id": "100",
                       "kentaikyo_method": "electronic", "opened_on": "2025-01-06"}),
        ("/v1/readers", {"reader_id": READER, "site_id": SITE}),
    ]
    for n, card in enumerate(worker_cards(SITE, CARDHOLDERS)):
        steps += [("/v1/workers", {"technician_id": technician(n), "name": f"作業員 {n}"}),
                  ("/v1/cards", {"card_id": card.card_id, "technician_id": technician(n)})]
    for path, body in steps:
        response = api.post(path, json=body)
        assert response.status_code == 201, (path, response.status_code, response.text)


@pytest.fixture(name="deployment")
def deployment_fixture(postgres_url: str, tmp_path: Path) -> Deployment:
    env = ledger_env(postgres_url, tmp_path / "settlements")
    # Keys before the first start (the CLI migrates), so `serve` prints no first-admin token.
    admin = new_token(env, "--role", "admin", "--name", "ops")
    reader = new_token(env, "--role", "reader", "--reader", READER)
    deployment = Deployment(postgres_url, env, free_port(), admin, reader, tmp_path)
    with deployment.serve("setup") as server, client(server.url, admin) as api:
        register(api)
    assert "no admin key existed" not in (tmp_path / "setup.log").read_text()
    return deployment


# -- the spool, read straight from its file ------------------------------------------------------
@dataclass(frozen=True)
class SpoolRow:
    sequence: int
    tap_id: str
    card_id: str
    direction: str
    state: str
    server_status: str | None
    flags: str | None
    position: int | None


def spool_rows(spool: Path) -> list[SpoolRow]:
    with sqlite3.connect(spool) as db:
        rows = db.execute("SELECT sequence, tap_id, card_id, direction, state, server_status,"
                          " flags, position FROM taps ORDER BY sequence").fetchall()
    return [SpoolRow(*row) for row in rows]


def spool_a_day(spool: Path, workers: int) -> list[str]:
    """A day's tap waves written into the spool with the agent's spool API (no upload)."""
    plan = plan_day(SITE, workers, date.fromisoformat(DAY), random.Random(1))
    the_spool = Spool(spool, READER)
    try:
        taps = the_spool.record_all(((p.identity, p.at) for p in plan), DirectionMode.AUTO,
                                    timedelta(seconds=10))
    finally:
        the_spool.close()
    return [tap.tap_id for tap in taps]


def last_upload_error(spool: Path) -> str | None:
    try:
        the_spool = Spool.open_existing(spool)
    except SpoolError:
        return None  # not created yet
    try:
        return the_spool.status().last_error
    finally:
        the_spool.close()


def upload(spool: Path, server: str, token: str) -> list[str]:
    return ["upload", "--spool", str(spool), "--transport", "http", "--server", server,
            "--token", token, "--exit-when-drained", "--batch-size", str(BATCH),
            "--max-backoff", "0.5"]


def expected_status(card_id: str) -> str:
    return "accepted" if card_id in REGISTERED_CARDS else "flagged"


# -- what every test ends with -------------------------------------------------------------------
def assert_stored_exactly_once(deployment: Deployment, spool: Path) -> list[LoggedTap]:
    """Every spooled tap is in the ledger's log once, and the spool knows it was delivered."""
    logged = logged_taps(deployment.database_url)
    rows = spool_rows(spool)
    ids = [tap.tap_id for tap in logged]
    assert len(ids) == len(set(ids)), "a tap was recorded twice"
    assert sorted(ids) == sorted(row.tap_id for row in rows), "the ledger and the spool disagree"
    assert {t.tap_id: (t.card_id, t.direction) for t in logged} == {
        row.tap_id: (row.card_id, row.direction) for row in rows}
    assert {row.state for row in rows} == {"delivered"}
    position = {t.tap_id: t.position for t in logged}  # what the API answered for each tap
    assert all(row.position == position[row.tap_id] for row in rows
               if row.server_status != "duplicate")
    return logged


def assert_the_api_agrees(deployment: Deployment, logged: list[LoggedTap]) -> None:
    """The API's log, readiness and attendance say what the ledger's log says."""
    with client(deployment.url, deployment.admin) as api:
        audited = api_log(api, "Tap.Recorded")
        assert [(e["position"], e["originator_id"], e["actor"]) for e in audited] == [
            (t.position, str(tap_aggregate_id(t.tap_id)), f"reader:{READER}") for t in logged]

        def ready() -> dict[str, Any]:
            answer = api.get("/v1/ready")
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        readiness = ready()
        assert readiness["log_position"] >= logged[-1].position
        assert readiness["projection_error"] is None

        def caught_up() -> bool:
            answer = ready()
            head = log_head(deployment.database_url)
            return bool(answer["log_position"] == head == answer["projection_position"])

        # The scheduler may append a job's event meanwhile: the two views meet once it is quiet.
        wait_for(caught_up, "/v1/ready's log_position to reach the ledger's head, and the "
                 "projection to reach it")

        day = api.get(f"/v1/sites/{SITE}/attendance", params={
            "work_date": DAY, "min_position": logged[-1].position, "limit": 1000})
        assert day.status_code == 200, day.text
        items = day.json()["items"]
        registered = {t.position for t in logged if t.card_id in REGISTERED_CARDS}
        assert day.json()["headcount"] == CARDHOLDERS
        assert sorted(p for item in items for p in item["event_positions"]) == sorted(registered)


# -- the tests ------------------------------------------------------------------------------------
def test_taps_made_while_the_ledger_is_down_are_stored_exactly_once_when_it_is_back(
    deployment: Deployment, tmp_path: Path,
) -> None:
    spool = tmp_path / "gate-1.db"
    simulate = ["simulate", "--site", SITE, "--workers", str(CARDHOLDERS), "--rate", "0",
                "--date", DAY, "--reader-id", READER, "--spool", str(spool), "--transport",
                "http", "--server", deployment.url, "--token", deployment.reader,
                "--batch-size", str(BATCH), "--max-backoff", "0.5"]
    with Agent(simulate, tmp_path, "simulator") as simulator:  # the ledger is down
        wait_for(lambda: "taps spooled" in simulator.output(), "the morning and evening waves")
        wait_for(lambda: last_upload_error(spool) is not None, "an upload to fail")
        simulator.process.send_signal(signal.SIGTERM)  # by its PID; it stops between taps
        assert simulator.finish() == 0, simulator.output()
    assert "ledger unreachable" in (last_upload_error(spool) or "")
    rows = spool_rows(spool)
    assert f"{len(rows)} taps spooled" in simulator.output()
    assert len(rows) > CARDHOLDERS and {row.state for row in rows} == {"pending"}
    assert tap_count(deployment.database_url) == 0

    with deployment.serve("back"):
        with Agent(upload(spool, deployment.url, deployment.reader), tmp_path) as uploader:
            assert uploader.finish() == 0, uploader.output()
        logged = assert_stored_exactly_once(deployment, spool)
        rows = spool_rows(spool)
        assert {row.server_status for row in rows} == {"accepted"}  # every card registered
        assert_the_api_agrees(deployment, logged)


def test_an_agent_killed_while_its_batch_is_committed_but_unanswered_stores_nothing_twice(
    deployment: Deployment, tmp_path: Path,
) -> None:
    """SIGKILL in the worst window: the ledger has committed the third batch and answered, and
    the agent dies before it hears the answer (a proxy keeps the answer back)."""
    spool = tmp_path / "gate-1.db"
    spooled = spool_a_day(spool, workers=CARDHOLDERS + 20)  # 20 workers' cards unknown
    assert len(spooled) > 5 * BATCH
    with deployment.serve("server") as server, HoldingProxy(server.url, hold=3) as proxy:
        with Agent(upload(spool, proxy.url, deployment.reader), tmp_path, "killed") as agent:
            assert proxy.held.wait(timeout=120), agent.output()
            agent.process.send_signal(signal.SIGKILL)
            assert agent.process.wait(timeout=60) == -signal.SIGKILL
        proxy.release.set()
        assert proxy.answered == [200, 200, 200]
        committed = sorted(t.tap_id for t in logged_taps(deployment.database_url))
        assert committed == sorted(spooled[:3 * BATCH]), "three batches committed"
        before = spool_rows(spool)
        assert [row.state for row in before] == ["delivered"] * 2 * BATCH + ["pending"] * (
            len(spooled) - 2 * BATCH), "two answered batches delivered; the held one pending"

        with Agent(upload(spool, server.url, deployment.reader), tmp_path, "restarted") as agent:
            assert agent.finish() == 0, agent.output()
        logged = assert_stored_exactly_once(deployment, spool)
        held = set(spooled[2 * BATCH:3 * BATCH])
        statuses = [(row.tap_id, row.server_status, row.flags) for row in spool_rows(spool)]
        assert statuses == [
            (row.tap_id, "duplicate", "") if row.tap_id in held else
            (row.tap_id, expected_status(row.card_id),
             "" if row.card_id in REGISTERED_CARDS else "unknown_card") for row in before]
        assert_the_api_agrees(deployment, logged)


def test_an_agent_killed_again_and_again_mid_upload_delivers_each_tap_once(
    deployment: Deployment, tmp_path: Path,
) -> None:
    """SIGKILL wherever the upload happens to be (sending, committing, settling the spool),
    straight to the server, three times; the last run drains the spool."""
    spool = tmp_path / "gate-1.db"
    spooled = spool_a_day(spool, workers=300)
    with deployment.serve("server") as server:
        stored = 0
        for round_ in range(3):
            name = f"killed-{round_}"
            with Agent(upload(spool, server.url, deployment.reader), tmp_path, name) as agent:

                def more_stored(agent: Agent = agent, before: int = stored) -> bool:
                    return (tap_count(deployment.database_url) > before
                            or agent.process.poll() is not None)

                wait_for(more_stored, f"round {round_}: another batch stored")
                assert agent.process.poll() is None, f"drained before the kill:\n{agent.output()}"
                agent.process.send_signal(signal.SIGKILL)
                assert agent.process.wait(timeout=60) == -signal.SIGKILL
            stored = tap_count(deployment.database_url)
        assert 0 < stored < len(spooled), "the kills came mid-upload"
        assert {row.state for row in spool_rows(spool)} >= {"pending"}

        with Agent(upload(spool, server.url, deployment.reader), tmp_path, "restarted") as agent:
            assert agent.finish() == 0, agent.output()
        assert_stored_exactly_once(deployment, spool)
        rows = spool_rows(spool)
        assert [row.tap_id for row in rows] == spooled
        duplicates = [row for row in rows if row.server_status == "duplicate"]
        assert len(duplicates) <= 3 * BATCH, "at most one batch re-sent per kill"
        assert all(row.server_status == expected_status(row.card_id)
                   for row in rows if row.server_status != "duplicate")
