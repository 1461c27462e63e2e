"""As-of replays as jobs (api/replays.py, projections/replay.py), on SQLite and PostgreSQL.

The replay reads the log only up to the moment: events recorded after it are made undecodable
and the replay neither reads nor quarantines them. Over real HTTP (uvicorn on 127.0.0.1, in this
process so that the test holds the ledger's clock): 202 with the status URL, progress, the
answer kept its time and then 404; the queue; who may read a job. A job whose process was
killed (SIGKILL) while it ran is failed at the next start, not left running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from api.config import ApiSettings
from api.main import create_app
from api.replay_jobs import DONE, FAILED, QUEUED, RUNNING, ReplayJobs, ReplayRequest
from ledger import clock
from ledger.actors import SYSTEM, Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from ledger.storage.keys import KeyStore
from ledger.storage.migrate import migrate
from projections.jobs.seal import seal_days
from projections.quarantine import quarantined
from projections.queries import career_summary
from projections.replay import LogCut, cut_at, replay_as_of
from projections.store import ReadStore
from tests.api_read_support import DATABASES, database
from tests.conftest import TEST_CIPHER_KEY
from tests.integration.world import ADMIN, TECHNICIAN, register_world

REGISTERED = datetime(2025, 6, 20, 10, 0, tzinfo=JST)
MOMENT = datetime(2025, 6, 24, 12, 0, tzinfo=JST)  # between the two days of taps below
AUDITOR = Actor(Role.AUDITOR, "audit")
READS = 3_000  # how many times a test reads a job's status before giving up (a bound)


def tap(n: int, direction: str, at: datetime) -> TapObservation:
    return TapObservation(f"GATE-1:{n}", "GATE-1", direction, at, card_id="04A1B2C3")


def work_two_days(ledger: Ledger, now: clock.FixedClock) -> None:
    """The world registered at 10:00 on the 20th; a shift on the 23rd recorded that evening, one
    on the 24th recorded that evening (after MOMENT)."""
    now.at = REGISTERED
    register_world(ledger)
    work_on(ledger, now, 23)
    work_on(ledger, now, 24)


def work_on(ledger: Ledger, now: clock.FixedClock, day: int) -> None:
    """A shift on a day of June 2025, its two taps recorded at 18:00 that day."""
    now.at = datetime(2025, 6, day, 18, 0, tzinfo=JST)
    n = 2 * day
    ledger.record_taps([tap(n, "in", datetime(2025, 6, day, 8, 0, tzinfo=JST)),
                        tap(n + 1, "out", datetime(2025, 6, day, 17, 0, tzinfo=JST))], ADMIN)


def make_undecodable(settings: Settings, after: int) -> int:
    """Overwrite the stored state of every event after a position; return how many."""
    store = ReadStore(settings)
    try:
        with store.transaction() as tx:
            table, column = ("stored_events", "rowid") if tx.sqlite else (
                "ledger_events", "notification_id")
            tx.execute(f"UPDATE {table} SET state = %s WHERE {column} > %s",
                       [b"\x00not an event", after])
            return int(tx.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} > %s",
                                  [after])[0][0])
    finally:
        store.close()


def days_worked(store: ReadStore) -> int:
    with store.read() as tx:
        return career_summary(tx, TECHNICIAN, date(2025, 6, 1), date(2025, 6, 30)).total.work_days


# -- the cut -------------------------------------------------------------------------------------
def test_the_replay_reads_no_event_recorded_after_the_moment(
    ledger: Ledger, settings: Settings, now: clock.FixedClock, tmp_path: Path
) -> None:
    work_two_days(ledger, now)
    live = ReadStore(settings)
    try:
        cut = cut_at(ledger, live, MOMENT)
    finally:
        live.close()
    head = ledger.log_position()
    assert cut.position == head - 2  # the second day's two taps are after the moment
    assert make_undecodable(settings, cut.position) == 2
    read: list[int] = []
    replayed = replay_as_of(ledger, MOMENT, tmp_path / "as-of.db", progress=read.append)
    try:
        assert days_worked(replayed) == 1
        with replayed.read() as tx:
            assert quarantined(tx) == []  # nothing after the moment was even decoded
        assert sum(read) == cut.events == cut.position  # SQLite and a fresh PostgreSQL: no gaps
    finally:
        replayed.close()
    # Read to the head, the same replay meets them and has to quarantine them.
    whole = replay_as_of(ledger, MOMENT, tmp_path / "whole.db", cut=LogCut(MOMENT, head, head))
    try:
        with whole.read() as tx:
            assert [e.position for e in quarantined(tx)] == [head - 1, head]
    finally:
        whole.close()


def test_the_cut_reads_the_recorded_times_of_encrypted_events(
    database_url: str, now: clock.FixedClock
) -> None:
    settings = Settings(database_url=database_url, cipher_key=TEST_CIPHER_KEY)
    migrate(settings)
    ledger = Ledger(settings)
    store = ReadStore(settings)
    try:
        work_two_days(ledger, now)
        assert cut_at(ledger, store, MOMENT).position == ledger.log_position() - 2
    finally:
        store.close()
        ledger.close()


def test_a_replay_as_of_a_sealed_days_end_stops_where_its_seal_does(
    ledger: Ledger, settings: Settings, now: clock.FixedClock
) -> None:
    """The cut is the seals' rule: a day's seal ends before the first event recorded after the
    day; the search for a later moment starts after the last seal before its day."""
    now.at = REGISTERED
    register_world(ledger)
    work_on(ledger, now, 23)
    store = ReadStore(settings)
    try:
        now.at = datetime(2025, 6, 24, 3, 0, tzinfo=JST)
        seal_days(ledger, store, date(2025, 6, 23), SYSTEM)
        sealing_done = ledger.log_position()  # the seal's events, recorded at 03:00
        work_on(ledger, now, 24)
        with store.read() as tx:
            (sealed,) = tx.execute("SELECT last_position FROM daily_seals WHERE day = %s",
                                   [date(2025, 6, 23)])[0]
        assert 0 < int(sealed) < sealing_done
        end_of_day = datetime(2025, 6, 23, 23, 59, 59, 999999, tzinfo=JST)
        assert cut_at(ledger, store, end_of_day).position == int(sealed)
        assert cut_at(ledger, store, datetime(2025, 6, 24, 4, 0, tzinfo=JST)).position == (
            sealing_done)
        assert cut_at(ledger, store, REGISTERED - timedelta(seconds=1)).position == 0
    finally:
        store.close()


# -- the queue in the table ------------------------------------------------------------------------
def test_claims_keep_to_the_limit_in_order_and_a_stopping_process_gives_its_job_back(
    settings: Settings, now: clock.FixedClock
) -> None:
    jobs = ReplayJobs(settings)
    try:
        for n in range(3):
            jobs.add(f"{n:032x}", str(AUDITOR), ReplayRequest(MOMENT, TECHNICIAN, date(2025, 6, 1),
                                                             date(2025, 6, 30)), now.now())
            now.advance(timedelta(seconds=1))
        first = jobs.claim("host:1:a", 1, now.now())
        assert first is not None and first.replay_id == f"{0:032x}"
        assert jobs.claim("host:2:b", 1, now.now()) is None  # one runs: the limit
        second = jobs.claim("host:2:b", 2, now.now())
        assert second is not None and second.replay_id == f"{1:032x}"
        assert jobs.requeue("host:2:b") == 1
        jobs.finish(first.replay_id, "host:1:a", now.now(), now.now(), result={"ok": 1})
        # A job already ended is not failed over by a process that thought it abandoned.
        assert not jobs.abandon(first.replay_id, "host:1:a", now.now(), now.now(), {})
        statuses = {n: jobs.find(f"{n:032x}", now.now() - timedelta(seconds=1)) for n in range(3)}
        assert {n: job.status for n, job in statuses.items() if job} == {
            0: DONE, 1: QUEUED, 2: QUEUED}
        assert statuses[1] is not None and statuses[1].owner is None
    finally:
        jobs.close()


# -- over HTTP -------------------------------------------------------------------------------------
@dataclass
class Served:
    url: str
    app: FastAPI
    ledger: Ledger
    settings: Settings
    tokens: dict[str, str]
    clock: clock.FixedClock

    def client(self, who: str = "auditor") -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=None,
                            headers={"Authorization": f"Bearer {self.tokens[who]}"})


@contextmanager
def uvicorn_serving(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn on a free port of 127.0.0.1, in a thread of this process."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(6_000):
            if server.started or not thread.is_alive():
                break
            time.sleep(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


@pytest.fixture(name="served", scope="module", params=DATABASES)
def served_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("replays")
    with clock.clock_at(REGISTERED) as fixed, database(request.param, folder) as url:
        settings = Settings(database_url=url, seal_key_file=folder / "seal-ed25519.pem",
                            witness_dir=folder / "witness")
        migrate(settings)
        ledger = Ledger(settings)
        work_two_days(ledger, fixed)
        fixed.at = datetime(2025, 6, 25, 9, 0, tzinfo=JST)
        keys = KeyStore(settings)
        tokens = {who: keys.create(role, name).token for who, role, name in (
            ("auditor", Role.AUDITOR, "audit"), ("admin", Role.ADMIN, "ops"),
            ("prime", Role.PRIME_CONTRACTOR, "100"))}
        app = create_app(settings, ApiSettings(replay_dir=folder / "replay-files",
                                               replays_at_once=1))
        try:
            with uvicorn_serving(app) as base:
                yield Served(base, app, ledger, settings, tokens, fixed)
        finally:
            keys.close()
            ledger.close()


def ask(client: httpx.Client, as_of: datetime, technician_id: str = TECHNICIAN) -> httpx.Response:
    return client.post("/v1/audit/replays", json={
        "as_of": as_of.isoformat(), "technician_id": technician_id,
        "date_from": "2025-06-01", "date_to": "2025-06-30"})


def ended(client: httpx.Client, status_url: str) -> dict[str, Any]:
    seen = []
    for _ in range(READS):
        answer = client.get(status_url)
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        seen.append(job["status"])
        if job["status"] in (DONE, FAILED):
            assert set(seen) <= {QUEUED, RUNNING, job["status"]}
            return job
        progress = job["progress"]
        if progress["events_to_read"] is not None:
            assert 0 <= progress["events_read"] <= progress["events_to_read"]
        time.sleep(0.02)
    raise AssertionError(f"{status_url} did not end: {seen[-5:]}")


def test_a_replay_is_a_job_answered_at_once_and_read_until_done(served: Served) -> None:
    with served.client() as client:
        asked = ask(client, MOMENT)
        assert asked.status_code == 202, asked.text
        replay_id = asked.json()["replay_id"]
        assert asked.headers["location"] == f"/v1/audit/replays/{replay_id}"
        assert asked.json()["status"] in (QUEUED, RUNNING, DONE)
        job = ended(client, asked.headers["location"])
    head = served.ledger.log_position()
    assert job["status"] == DONE and job["failure"] is None
    assert job["stop_position"] == head - 2  # the 24th's taps were recorded after the moment
    assert job["progress"] == {"events_read": head - 2, "events_to_read": head - 2}
    assert job["result"]["events_replayed_through"] == head - 2
    assert job["result"]["career"]["work_days"] == 1  # the 23rd; the 24th was not yet recorded
    assert datetime.fromisoformat(job["as_of"]) == MOMENT
    finished = datetime.fromisoformat(job["finished_at"])
    assert datetime.fromisoformat(job["kept_until"]) == finished + timedelta(hours=24)
    files = list((Path(served.app.state.replays.directory)).glob("as-of-*"))
    assert files == []  # the answer is kept in the database; the replayed file is gone


def test_requests_while_one_runs_are_queued_not_refused(served: Served) -> None:
    with served.client() as client:
        asked = [ask(client, MOMENT + timedelta(days=k)) for k in range(3)]
        assert [a.status_code for a in asked] == [202] * 3
        jobs = [ended(client, a.headers["location"]) for a in asked]
    head = served.ledger.log_position()
    assert [j["status"] for j in jobs] == [DONE] * 3
    # A day later the 24th had been recorded too: the whole log.
    assert [j["stop_position"] for j in jobs] == [head - 2, head, head]
    assert [j["result"]["career"]["work_days"] for j in jobs] == [1, 2, 2]


def test_who_reads_a_job_and_what_absent_looks_like(served: Served) -> None:
    served.clock.advance(timedelta(minutes=1))  # this job is the auditor's newest
    with served.client() as auditor, served.client("admin") as admin, \
            served.client("prime") as prime:
        asked = ask(auditor, MOMENT)
        location = asked.headers["location"]
        ended(auditor, location)
        assert admin.get(location).status_code == 200  # auditors and admins read everything
        assert prime.get(location).status_code == 403
        assert ask(prime, MOMENT).status_code == 403
        mine = auditor.get("/v1/audit/replays", params={"limit": 1})
        assert mine.status_code == 200
        listed = [mine.json()["items"][0]["replay_id"]]
        while (cursor := mine.json()["next_cursor"]) is not None:
            mine = auditor.get("/v1/audit/replays", params={"limit": 1, "cursor": cursor})
            listed += [item["replay_id"] for item in mine.json()["items"]]
        assert asked.json()["replay_id"] == listed[0]  # newest first
        assert len(listed) == len(set(listed)) >= 1
        assert asked.json()["replay_id"] not in [
            item["replay_id"] for item in admin.get("/v1/audit/replays").json()["items"]]
        absent = auditor.get(f"/v1/audit/replays/{'f' * 32}")
        assert absent.status_code == 404 and absent.json()["field"] == "replay_id"
        assert auditor.get("/v1/audit/replays/not-an-id").status_code == 422
        unknown = ask(auditor, MOMENT, technician_id="99999999999999")
        assert (unknown.status_code, unknown.json()["field"]) == (404, "technician_id")
        for moment in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+09:00"):
            far = auditor.post("/v1/audit/replays", json={
                "as_of": moment, "technician_id": TECHNICIAN, "date_from": "2025-06-01",
                "date_to": "2025-06-30"})
            assert (far.status_code, far.json()["field"]) == (422, "as_of"), far.text


def test_a_job_kept_its_time_answers_as_absent_and_is_removed(served: Served) -> None:
    with served.client() as client:
        location = ask(client, MOMENT).headers["location"]
        job = ended(client, location)
        kept_until = datetime.fromisoformat(job["kept_until"])
        was = served.clock.at
        try:
            served.clock.at = kept_until
            gone = client.get(location)
            absent = client.get(f"/v1/audit/replays/{'e' * 32}")
            assert gone.status_code == absent.status_code == 404
            assert gone.json() | {"detail": ""} == absent.json() | {"detail": ""}
            served.app.state.replays.tend()
            assert replay_rows(served.settings, job["replay_id"]) == 0
        finally:
            served.clock.at = was


def replay_rows(settings: Settings, replay_id: str) -> int:
    store = ReadStore(settings)
    try:
        with store.read() as tx:
            return int(tx.execute("SELECT COUNT(*) FROM replay_jobs WHERE replay_id = %s",
                                  [replay_id])[0][0])
    finally:
        store.close()


# -- a process killed while its job ran ------------------------------------------------------------
CLAIM_AND_HANG = """
import os, socket, sys, time
from datetime import date, datetime
from api.replay_jobs import ReplayJobs, ReplayRequest
from ledger import clock
from ledger.settings import Settings

jobs = ReplayJobs(Settings(database_url=sys.argv[1]))
jobs.add("d" * 32, "auditor:audit", ReplayRequest(datetime.fromisoformat(sys.argv[2]),
         sys.argv[3], date(2025, 6, 1), date(2025, 6, 30)), clock.now())
job = jobs.claim(f"{socket.gethostname()}:{os.getpid()}:killed", 1, clock.now())
print(job.status if job else "none", flush=True)
time.sleep(600)
"""


def test_a_job_whose_process_was_killed_is_failed_at_the_next_start(
    settings: Settings, ledger: Ledger, now: clock.FixedClock, tmp_path: Path
) -> None:
    register_world(ledger)
    process = subprocess.Popen([sys.executable, "-c", CLAIM_AND_HANG, settings.database_url,
                                MOMENT.isoformat(), TECHNICIAN], stdout=subprocess.PIPE,
                               text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "running"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    keys = KeyStore(settings)
    try:
        token = keys.create(Role.AUDITOR, "audit").token
        app = create_app(settings, ApiSettings(replay_dir=tmp_path / "replays"))
        with uvicorn_serving(app) as url, httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
            job = client.get(f"/v1/audit/replays/{'d' * 32}").json()
    finally:
        keys.close()
    assert job["status"] == FAILED, job
    assert job["failure"]["rule"] == "replay.abandoned"
    assert job["kept_until"] is not None and job["result"] is None


def test_a_finished_answer_outlives_the_process_that_found_it(
    settings: Settings, ledger: Ledger, now: clock.FixedClock, tmp_path: Path
) -> None:
    work_two_days(ledger, now)
    keys = KeyStore(settings)
    try:
        headers = {"Authorization": f"Bearer {keys.create(Role.AUDITOR, 'audit').token}"}
        answers = []
        for run in range(2):  # the second app is "the next start": it only reads
            app = create_app(settings, ApiSettings(replay_dir=tmp_path / "replays"))
            with uvicorn_serving(app) as url, httpx.Client(base_url=url,
                                                           headers=headers) as client:
                if run == 0:
                    location = ask(client, MOMENT).headers["location"]
                answers.append(ended(client, location))
    finally:
        keys.close()
    assert answers[0]["status"] == DONE
    assert answers[1] == answers[0]
