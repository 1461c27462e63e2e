"""End to end: a real `ledger serve` on PostgreSQL meets a tap it cannot project. It quarantines
it and goes on: /v1/ready answers 503 naming the event, its worker and site; later taps are
projected; reads of that worker say they may be incomplete; `ledger quarantine list` names it.

No tap sent over HTTP can be such a tap any more: the edge refuses control characters, and a
wild reader clock (the first poison found: 9999-12-31) is stored and projected, flagged. So the
test sends that wild tap over HTTP, then writes into the log, through the ledger's own recorder,
a tap such as an earlier version stored: one whose tap ID holds a NUL, which PostgreSQL's text
cannot hold.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from eventsourcing.utils import get_topic

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.domain.taps import Direction, Tap, tap_aggregate_id
from ledger.settings import Settings
from tests.e2e.test_api_server import (  # noqa: F401  (env_fixture is a fixture)
    LEDGER,
    READER,
    SITE,
    TECHNICIAN,
    bearer,
    client_of,
    env_fixture,
    serving,
    set_up_a_site,
    taps,
)

pytestmark = pytest.mark.slow
JUNE = "date_from=2025-06-01&date_to=2025-06-30"


def eventually(check: Callable[[], bool], tries: int = 600) -> None:
    """Polls what the server brings about; fails after `tries` polls, not after a time."""
    for _ in range(tries):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("the condition never held")


def store_an_unprojectable_tap(database_url: str) -> int:
    """A Tap.Recorded event as an earlier version could store it; returns its log position."""
    ledger = Ledger(Settings(database_url=database_url))
    try:
        tap_id = f"{READER}:900\x00"
        event = Tap.Recorded(  # type: ignore[attr-defined]
            originator_topic=get_topic(Tap), originator_id=tap_aggregate_id(tap_id),
            originator_version=1, timestamp=clock.now(), tap_id=tap_id, reader_id=READER,
            card_id=None, technician_id=TECHNICIAN, direction=Direction.IN,
            reader_time=datetime(2025, 6, 20, 8, tzinfo=clock.JST), received_at=clock.now(),
            actor=Actor(Role.READER, READER))
        ledger.recorder.insert_events([ledger.mapper.to_stored_event(event)])
        return ledger.log_position()
    finally:
        ledger.close()


def test_a_poison_tap_is_quarantined_and_the_served_projection_goes_on(
    env: dict[str, str], postgres_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    with serving(env, log) as server, client_of(server) as client:
        parties = set_up_a_site(env, server.url)
        reader = bearer(parties.reader)
        wild = taps(1, 1)[0] | {"reader_time": "9999-12-31T23:59:59+09:00"}
        sent = client.post("/v1/taps", json={"taps": [wild]}, headers=reader).json()
        assert [(r["status"], r["flags"]) for r in sent["results"]] == [
            ("flagged", ["clock_skew"])]
        nul = taps(2, 1)[0] | {"card_id": "04A1\u0000"}
        refused = client.post("/v1/taps", json={"taps": [nul]}, headers=reader).json()
        assert [r["status"] for r in refused["results"]] == ["rejected"], refused
        assert refused["results"][0]["reason"].startswith("card_id"), refused

        poison = store_an_unprojectable_tap(postgres_url)
        later = client.post("/v1/taps", json={"taps": taps(3, 2)}, headers=reader).json()
        assert [r["status"] for r in later["results"]] == ["accepted", "accepted"]

        eventually(lambda: client.get("/v1/ready").status_code == 503)
        ready = client.get("/v1/ready").json()
        assert ready["type"] == "urn:ccus-ledger:problem:not-ready"
        assert f"position {poison} (Tap.Recorded, worker {TECHNICIAN}, site {SITE})" in (
            ready["detail"])
        assert [(q["position"], q["event_type"], q["technician_id"], q["site_id"])
                for q in ready["quarantined"]] == [(poison, "Tap.Recorded", TECHNICIAN, SITE)]
        eventually(lambda: client.get("/v1/ready").json()["lag_events"] == 0)  # it went on

        worker = bearer(parties.worker)
        records = client.get(f"/v1/workers/{TECHNICIAN}/records?{JUNE}"
                             f"&min_position={later['position']}", headers=worker)
        assert records.status_code == 200, records.text  # the later taps are projected
        assert len(records.json()["items"]) == 1
        eventually(lambda: incomplete(client, worker) == str(poison))

    listed = subprocess.run([*LEDGER, "quarantine", "list"], env=env, capture_output=True,
                            text=True)
    assert listed.returncode == 0, listed.stderr
    assert f"position {poison}  Tap.Recorded  worker {TECHNICIAN}, site {SITE}" in listed.stdout
    assert "DataError" in listed.stdout or "CharacterNotInRepertoire" in listed.stdout
    retried = subprocess.run([*LEDGER, "quarantine", "retry", str(poison)], env=env,
                             capture_output=True, text=True)
    assert retried.returncode == 1 and "still quarantined" in retried.stderr, retried
    assert "attempt" in retried.stderr
    assert log.read_text().count(f"quarantined the event at position {poison}") == 1


def incomplete(client: httpx.Client, worker: dict[str, str]) -> str | None:
    response = client.get(f"/v1/workers/{TECHNICIAN}/records?{JUNE}", headers=worker)
    return response.headers.get("Ledger-Incomplete")
