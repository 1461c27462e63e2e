"""Read replicas on PostgreSQL's own streaming replication: `ledger serve` (a real uvicorn process)
with `LEDGER_READ_DATABASE_URLS` naming a real hot standby (tests/pg_replica.py), clients over
HTTP on 127.0.0.1.

The standby's lag is made deterministic by pausing its replay (`pg_wal_replay_pause()`): an answer
whose `projection_position` is the paused standby's, while the primary's read models are further,
can only have come from the standby. Every wait ends when a condition holds (bounded polls).
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import ValidationError

from api.reading import replay_lag, replica_settings
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.settings import Settings
from ledger.storage.keys import KeyStore
from ledger.storage.migrate import migrate
from projections.projector import LedgerProjection
from tests.e2e.test_api_server import Server, bearer, serving
from tests.pg import in_ci
from tests.pg_replica import ReplicaPair, ReplicaUnavailable, replica_pair

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
ADMIN = Actor(Role.ADMIN, "replica-test")
DB = "ledger"
PRIME, SUB, WORKER, SITE, READER, CARD = ("100", "200", "12345678901234", "10000000000001",
                                          "GATE-1", "04A1B2C3")
JUNE = {"date_from": "2025-06-01", "date_to": "2025-06-30"}
tap_sequence = itertools.count(1)


# -- the pair, the world, the servers ------------------------------------------------------------
@pytest.fixture(scope="module")
def pair() -> Iterator[ReplicaPair]:
    try:
        with replica_pair("fsync=off") as started:
            with psycopg.connect(started.primary_url(), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{DB}"')
            migrate(Settings(database_url=started.primary_url(DB)))
            yield started
    except ReplicaUnavailable as reason:
        if in_ci():  # PostgreSQL tests never skip in CI
            pytest.fail(f"CI requires a PostgreSQL streaming replica: {reason}")
        pytest.skip(f"PostgreSQL replica SKIPPED: {reason}")


@pytest.fixture(scope="module")
def tokens(pair: ReplicaPair) -> dict[str, str]:
    """A prime's site with a carded worker on its roster; keys for the worker and the reader.
    (The servers project it; `settled` waits for that.)"""
    settings = Settings(database_url=pair.primary_url(DB))
    ledger, keys = Ledger(settings), KeyStore(settings)
    try:
        ledger.register_business(PRIME, "鈴木建設", ADMIN)
        ledger.register_business(SUB, "田中鉄筋", ADMIN)
        ledger.register_worker(WORKER, "山田 太郎", ADMIN)
        ledger.join_employer(WORKER, SUB, date(2020, 4, 1), True, ADMIN)
        ledger.open_site(SITE, "新宿現場", PRIME, "electronic", date(2024, 1, 9), ADMIN)
        ledger.add_subcontract(SITE, SUB, PRIME, ADMIN)
        ledger.set_roster_entry(SITE, WORKER, SUB, "鉄筋", "一般", date(2024, 1, 9), ADMIN)
        ledger.register_reader(READER, SITE, "auto", ADMIN)
        ledger.issue_card(CARD, WORKER, ADMIN)
        return {"worker": keys.create(Role.WORKER, WORKER).token,
                "reader": keys.create(Role.READER, READER).token}
    finally:
        ledger.close()
        keys.close()


@contextmanager
def served(pair: ReplicaPair, folder: Path, max_lag: float,
           names: tuple[str, ...] = ("ledger-read",)) -> Iterator[Server]:
    """`ledger serve` on the primary, reading on the standby (named once per name in `names`,
    its connections there named so), measuring its lag 5 times a second; a standby that
    failed is tried again half a second later."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LEDGER_DATABASE_URL": pair.primary_url(DB),
           "LEDGER_READ_DATABASE_URLS": ",".join(f"{pair.standby_url(DB)}?application_name="
                                                 f"{name}" for name in names),
           "LEDGER_READ_REPLICA_MAX_LAG_SECONDS": str(max_lag),
           "LEDGER_READ_REPLICA_CHECK_SECONDS": "0.2", "LEDGER_READ_REPLICA_RETRY_SECONDS": "0.5",
           "LEDGER_API_SCHEDULER": "false", "LEDGER_DATA_DIR": str(folder),
           "LEDGER_SEAL_KEY_FILE": str(folder / "seal.pem"),
           "LEDGER_WITNESS_DIR": str(folder / "witness"),
           "LEDGER_GATE_CODE_KEY_FILE": str(folder / "gate-code.key")}
    with serving(env, folder / "server.log") as server:
        yield server


@pytest.fixture(scope="module")
def server(pair: ReplicaPair, tokens: dict[str, str],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that reads on the standby however far behind it is (a bound of an hour): the
    tests pause its replay to tell its answers from the primary's."""
    with served(pair, tmp_path_factory.mktemp("replica-server"), max_lag=3600) as started:
        yield started


# -- helpers ---------------------------------------------------------------------------------------
def eventually(check: Callable[[], bool], tries: int = 600) -> None:
    for _ in range(tries):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("the condition never held")


def records(server: Server, token: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/v1/workers/{WORKER}/records",
                         params=JUNE | params, headers=bearer(token), timeout=None)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def days(answer: dict[str, Any]) -> set[str]:
    return {item["work_date"] for item in answer["items"]}


def tap_on(server: Server, token: str, day: int) -> int:
    """A card tap on 2025-06-<day> through the API; the log position the write answered."""
    tap = {"tap_id": f"{READER}:{next(tap_sequence)}", "reader_id": READER, "card_id": CARD,
           "direction": "in", "reader_time": f"2025-06-{day:02d}T08:00:00+09:00"}
    response = httpx.post(f"{server.url}/v1/taps", json={"taps": [tap]}, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["status"] == "accepted", response.text
    return int(response.json()["position"])


POSITION = "SELECT position FROM projection_positions WHERE name = %s"


def primary_projection(pair: ReplicaPair) -> int:
    with psycopg.connect(pair.primary_url(DB)) as conn:
        row = conn.execute(POSITION, [LedgerProjection.name]).fetchone()
    return int(row[0]) if row else 0


def standby_projection(pair: ReplicaPair) -> int:
    with psycopg.connect(pair.standby_url(DB)) as conn:
        row = conn.execute(POSITION, [LedgerProjection.name]).fetchone()
    return int(row[0]) if row else 0


def standby_readers(pair: ReplicaPair, name: str = "ledger-read") -> int:
    """The standby's connections named `name` whose last statement was a query's, not the lag
    monitor's (`pg_is_in_recovery()`, on a connection of its own)."""
    count = pair.on_standby(
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND "
        f"application_name = '{name}' AND query NOT LIKE '%pg_is_in_recovery%'", DB)
    assert isinstance(count, int)
    return count


@contextmanager
def replay_paused(pair: ReplicaPair) -> Iterator[None]:
    pair.pause_replay()
    try:
        yield
    finally:
        pair.resume_replay()


def write_behind_the_paused_standby(server: Server, tokens: dict[str, str], pair: ReplicaPair,
                                    day: int) -> tuple[int, int]:
    """With the standby's replay paused: a tap written and projected on the primary. Returns
    (the write's position, the paused standby's projection position, short of it)."""
    written = tap_on(server, tokens["reader"], day)
    eventually(lambda: primary_projection(pair) >= written)
    behind = standby_projection(pair)
    assert behind < written
    return written, behind


def settled(pair: ReplicaPair) -> None:
    """Everything logged so far projected on the primary, and replayed on the standby."""
    ledger = Ledger(Settings(database_url=pair.primary_url(DB)))
    try:
        position = ledger.log_position()
    finally:
        ledger.close()
    eventually(lambda: primary_projection(pair) >= position)
    pair.wait_caught_up()


def answered_by_the_standby(server: Server, tokens: dict[str, str], pair: ReplicaPair,
                            day: int) -> None:
    """A read is (eventually) answered at the paused standby's position, without the tap the
    primary already shows: only the standby could have answered it."""
    settled(pair)
    with replay_paused(pair):
        written, behind = write_behind_the_paused_standby(server, tokens, pair, day)
        eventually(lambda: records(server, tokens["worker"])["projection_position"] == behind)
        answer = records(server, tokens["worker"])
        assert answer["projection_position"] == behind < written
        assert f"2025-06-{day:02d}" not in days(answer)


# -- the tests -------------------------------------------------------------------------------------
def test_reads_are_served_by_the_standby(server: Server, tokens: dict[str, str],
                                         pair: ReplicaPair) -> None:
    answered_by_the_standby(server, tokens, pair, day=2)
    assert standby_readers(pair) >= 1  # and its read connections are there
    pair.wait_caught_up()
    eventually(lambda: "2025-06-02" in days(records(server, tokens["worker"])))


def test_min_position_reads_the_write_across_the_standbys_lag(
        server: Server, tokens: dict[str, str], pair: ReplicaPair) -> None:
    """The standby has not replayed the write: the primary answers at once, with the write."""
    settled(pair)
    with replay_paused(pair):
        written, behind = write_behind_the_paused_standby(server, tokens, pair, day=3)
        for _ in range(5):
            answer = records(server, tokens["worker"], min_position=written)
            assert answer["projection_position"] >= written  # the answering store's own
            assert "2025-06-03" in days(answer)
        assert standby_projection(pair) == behind  # still paused: the primary answered
        # Without min_position the standby still answers, at its own position.
        assert records(server, tokens["worker"])["projection_position"] == behind
    # Caught up, the standby answers a position it has reached.
    pair.wait_caught_up()
    answer = records(server, tokens["worker"], min_position=written)
    assert answer["projection_position"] >= written and "2025-06-03" in days(answer)


def test_min_position_past_the_logs_head_is_refused(server: Server, tokens: dict[str, str]
                                                    ) -> None:
    response = httpx.get(f"{server.url}/v1/workers/{WORKER}/records",
                         params=JUNE | {"min_position": 10**9}, headers=bearer(tokens["worker"]))
    assert response.status_code == 422, response.text
    assert "min_position" in response.text


def replica_states(server: Server) -> list[tuple[int, str]]:
    """The replicas as /v1/ready shows them (no key), and as /metrics does: the same."""
    ready = httpx.get(f"{server.url}/v1/ready").json()["read_replicas"]
    shown = [(replica["number"], replica["state"]) for replica in ready]
    metrics = httpx.get(f"{server.url}/metrics").text
    for number, state in shown:
        read_from = 1 if state == "read" else 0
        assert f'ledger_read_replica_read_from{{replica="{number}"}} {read_from}.0' in metrics
    return shown


def test_a_standby_too_far_behind_is_skipped(pair: ReplicaPair, tokens: dict[str, str],
                                            tmp_path: Path) -> None:
    strict_name = "ledger-read-strict"
    with served(pair, tmp_path / "strict", max_lag=1.0, names=(strict_name,)) as strict:
        settled(pair)

        def read_on_the_standby() -> bool:
            records(strict, tokens["worker"])
            return standby_readers(pair, strict_name) > 0

        eventually(read_on_the_standby)  # caught up, this server reads on the standby
        assert replica_states(strict) == [(1, "read")]
        with replay_paused(pair):
            written, behind = write_behind_the_paused_standby(strict, tokens, pair, day=5)
            # More than a second behind the primary's WAL, the standby is left out: reads
            # come from the primary, with the write, though none asked for its position.
            eventually(lambda: records(strict, tokens["worker"])["projection_position"]
                       >= written)
            for _ in range(10):
                answer = records(strict, tokens["worker"])
                assert answer["projection_position"] >= written
                assert "2025-06-05" in days(answer)
            assert standby_projection(pair) == behind
            eventually(lambda: replica_states(strict) == [(1, "behind")])


def test_reads_take_the_replicas_in_turn(pair: ReplicaPair, tokens: dict[str, str],
                                         tmp_path: Path) -> None:
    """Two replicas (the one standby named twice, its connections told apart by name): the
    reads go to both."""
    names = ("ledger-read-first", "ledger-read-second")
    with served(pair, tmp_path / "two", max_lag=3600, names=names) as two:
        settled(pair)

        def both_read() -> bool:
            for _ in range(4):
                records(two, tokens["worker"])
            return all(standby_readers(pair, name) > 0 for name in names)

        eventually(both_read)


def test_the_standby_killed_during_reads_fails_no_read(
        server: Server, tokens: dict[str, str], pair: ReplicaPair) -> None:
    answered_by_the_standby(server, tokens, pair, day=6)
    pair.wait_caught_up()
    answers: list[int] = []
    failures: list[str] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=server.url, headers=bearer(tokens["worker"]),
                          timeout=None) as http:
            while not stop.is_set():
                try:
                    response = http.get(f"/v1/workers/{WORKER}/records", params=JUNE)
                except httpx.TransportError as error:
                    failures.append(repr(error))
                    continue
                (answers if response.status_code == 200 else failures).append(
                    response.status_code if response.status_code == 200 else response.text)

    clients = [threading.Thread(target=client) for _ in range(8)]
    for thread in clients:
        thread.start()
    try:
        eventually(lambda: len(answers) >= 100)
        pair.stop_standby("immediate")  # killed while 8 clients read
        killed_at = len(answers)
        eventually(lambda: len(answers) >= killed_at + 300)
    finally:
        stop.set()
        for thread in clients:
            thread.join()
    assert failures == []
    assert len(answers) >= 400
    eventually(lambda: replica_states(server) == [(1, "down")])  # and the service stays ready
    pair.start_standby()
    answered_by_the_standby(server, tokens, pair, day=7)  # back, it is read from again


def test_reads_go_on_from_the_standby_while_the_primary_is_down(
        server: Server, tokens: dict[str, str], pair: ReplicaPair) -> None:
    """Last in the module: the primary stopped, a worker's reads are still answered (by the
    standby, measured against the primary's last WAL position); then the primary is back."""
    settled(pair)
    before = records(server, tokens["worker"])
    pair.stop_primary("immediate")
    try:
        for _ in range(20):
            answer = records(server, tokens["worker"])
            assert answer["projection_position"] == before["projection_position"]
            assert days(answer) == days(before)
    finally:
        pair.start_primary()
    settled(pair)


# -- without a pair: the settings and the lag arithmetic -------------------------------------------
def test_read_replicas_are_refused_on_sqlite(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="LEDGER_READ_DATABASE_URLS needs PostgreSQL"):
        Settings(database_url=f"sqlite:///{tmp_path}/ledger.db",
                 read_database_urls="postgresql://postgres@127.0.0.1:5433/ledger")
    with pytest.raises(ValidationError, match="'mysql://x' is not a postgresql: URL"):
        Settings(database_url="postgresql://postgres@127.0.0.1/ledger",
                 read_database_urls="postgresql://a/ledger, mysql://x")
    settings = Settings(database_url="postgresql://postgres@127.0.0.1/ledger",
                        read_database_urls=" postgresql://a:5433/ledger ,postgresql://b/ledger,")
    assert settings.read_urls == ["postgresql://a:5433/ledger", "postgresql://b/ledger"]
    assert Settings(database_url=f"sqlite:///{tmp_path}/ledger.db").read_urls == []


def test_a_replicas_connections_time_out_and_name_themselves() -> None:
    primary = Settings(database_url="postgresql://postgres@127.0.0.1/ledger",
                       read_database_urls="postgresql://u:secret@standby:5433/ledger")
    standby = replica_settings(primary, primary.read_urls[0])
    assert standby.database_url == ("postgresql://u:secret@standby:5433/ledger"
                                    "?connect_timeout=2&application_name=ledger-read")
    own = replica_settings(primary, "postgresql://standby/ledger?connect_timeout=9")
    assert own.database_url.endswith("?connect_timeout=9&application_name=ledger-read")


def test_replay_lag_is_measured_against_the_primarys_sampled_wal() -> None:
    samples = [(10.0, 100), (11.0, 200), (12.0, 300)]
    assert replay_lag(samples, 300) == 0.0  # replayed what the latest sample saw
    assert replay_lag(samples, 450) == 0.0
    assert replay_lag(samples, 250) == 1.0  # has what the primary had at 11.0, not at 12.0
    assert replay_lag(samples, 100) == 2.0
    assert replay_lag(samples, 99) == math.inf  # behind every sample kept
    assert replay_lag([], 0) == 0.0
