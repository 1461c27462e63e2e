"""End to end, reading: `ledger serve` (a real uvicorn process on 127.0.0.1) runs the projection
and the nightly jobs; taps and an approved manual entry are read back over HTTP, as a career and
as Kentaikyo points, with the `min_position` their writes answered. On PostgreSQL, and on the
SQLite file `make run` uses (`ledger migrate`, then `ledger serve`).

No step waits on a clock: each wait ends when the server says something.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from ledger import clock
from projections.leader import LOCK_HOLDER, LOCK_KEY
from tests.e2e.test_api_server import (  # noqa: F401  (env is a fixture)
    CARD,
    LEDGER,
    LISTENING,
    READER,
    SITE,
    TECHNICIAN,
    Parties,
    Server,
    bearer,
    cli,
    client_of,
    env_fixture,
    serving,
    set_up_a_site,
)

pytestmark = pytest.mark.slow
TAP_DAY = "2025-06-20"


def on(day: str, hour: int) -> str:
    return f"{day}T{hour:02d}:00:00+09:00"


def shift(first: int) -> list[dict[str, Any]]:
    return [{"tap_id": f"{READER}:{first + n}", "reader_id": READER, "card_id": CARD,
             "direction": direction, "reader_time": on(TAP_DAY, hour)}
            for n, (direction, hour) in enumerate((("in", 8), ("out", 17)))]


def enroll_in_kentaikyo(client: httpx.Client, parties: Parties) -> None:
    for path, body in (("/v1/businesses/200/kentaikyo", {"contract_number": "5550001",
                                                          "since": "2020-01-01"}),
                       (f"/v1/workers/{TECHNICIAN}/kentaikyo", {"member_number": "7770001",
                                                               "since": "2020-01-01"})):
        response = client.post(path, json=body, headers=bearer(parties.admin))
        assert response.status_code == 200, response.text


def read(client: httpx.Client, path: str, token: str, position: int, **params: Any) -> Any:
    response = client.get(path, params=params | {"min_position": position},
                          headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_served_ledger_reads_back_careers_and_kentaikyo_points(
    env: dict[str, str], tmp_path: Path
) -> None:
    yesterday = (clock.now().astimezone(clock.JST) - timedelta(days=1)).date()
    with serving(env, tmp_path / "server.log") as server, client_of(server) as client:
        parties = set_up_a_site(env, server.url)
        enroll_in_kentaikyo(client, parties)
        sent = client.post("/v1/taps", json={"taps": shift(1)}, headers=bearer(parties.reader))
        assert [r["status"] for r in sent.json()["results"]] == ["accepted", "accepted"]
        entry = client.post("/v1/manual-entries", headers=bearer(parties.worker), json={
            "technician_id": TECHNICIAN, "site_id": SITE, "work_date": yesterday.isoformat(),
            "employer_business_id": "200", "trade": "鉄筋", "position": "職長",
            "work_content": "配筋", "note": "forgot my card"})
        assert entry.status_code == 201, entry.text
        approved = client.post(f"/v1/manual-entries/{entry.json()['request_id']}/approve",
                               headers=bearer(parties.prime))
        assert approved.status_code == 200, approved.text
        position = approved.json()["position"]

        career = read(client, f"/v1/workers/{TECHNICIAN}/career", parties.worker, position,
                      date_from=TAP_DAY, date_to=yesterday.isoformat())
        assert (career["work_days"], career["record_count"]) == (2, 2)
        june = read(client, f"/v1/workers/{TECHNICIAN}/kentaikyo", parties.employer, position,
                    month=TAP_DAY[:7])
        assert (june["eligible_days"], june["points_yen"]) == (1, 320)
        then = read(client, f"/v1/workers/{TECHNICIAN}/kentaikyo", parties.prime, position,
                    month=yesterday.isoformat()[:7])
        assert [(d["work_date"], d["outcome"], d["points_yen"])
                for line in then["lines"] for d in line["days"]] == [
            (yesterday.isoformat(), "eligible", 320)]
        day = read(client, f"/v1/sites/{SITE}/attendance", parties.prime, position,
                   work_date=yesterday.isoformat())
        assert [(r["technician_id"], r["source"], r["position"]) for r in day["items"]] == [
            (TECHNICIAN, "manual", "職長")]
        ready = client.get("/v1/ready").json()
        assert ready["projecting_here"] and ready["scheduler_running"]
        assert ready["projection_position"] >= position


def test_make_run_serves_a_working_ledger_on_sqlite(tmp_path: Path) -> None:
    sqlite_env = {**os.environ, "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db",
                  "COLUMNS": "200", "LEDGER_JOBS_OUTPUT_DIR": str(tmp_path / "settlements")}
    cli(sqlite_env, "migrate")
    with serving(sqlite_env, tmp_path / "server.log") as server, client_of(server) as client:
        parties = set_up_a_site(sqlite_env, server.url)
        sent = client.post("/v1/taps", json={"taps": shift(1)}, headers=bearer(parties.reader))
        assert sent.status_code == 200, sent.text
        records = read(client, f"/v1/workers/{TECHNICIAN}/records", parties.worker,
                       sent.json()["position"], date_from=TAP_DAY, date_to=TAP_DAY)
        assert [(r["work_date"], r["minutes_on_site"]) for r in records["items"]] == [
            (TAP_DAY, 540)]
        for _ in range(600):  # the scheduler's catch-up on start records its runs
            if (ready := client.get("/v1/ready").json())["job_runs"]:
                break
            time.sleep(0.05)
        assert ready["scheduler_running"] and ready["job_runs"]
        assert {run["job"] for run in ready["job_runs"]} <= {
            "close-day", "expire-entries", "seal", "settle-kentaikyo", "bill-site-fees"}


@contextmanager
def serving_workers(env: dict[str, str], log: Path, workers: int) -> Iterator[Server]:
    """`ledger serve --workers N --port 0`; yields once the workers answer."""
    with log.open("ab") as output:
        process = subprocess.Popen([*LEDGER, "serve", "--port", "0", "--workers", str(workers),
                                    "--no-access-log"], env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while not (found := LISTENING.search(log.read_text())):
            assert process.poll() is None, f"the server exited:\n{log.read_text()}"
            time.sleep(0.05)
        server = Server(process, found.group(1))
        with client_of(server) as client:
            for _ in range(1200):  # the workers listen once their lifespans have started
                try:
                    if client.get("/v1/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    assert process.poll() is None, f"the server exited:\n{log.read_text()}"
                    time.sleep(0.05)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_several_workers_share_the_port_and_their_supervisor_projects(
    env: dict[str, str], postgres_url: str, tmp_path: Path
) -> None:
    with serving_workers(env, tmp_path / "server.log", 2) as server, \
            client_of(server) as client:
        assert re.search(r"Uvicorn running on http://127\.0\.0\.1:[1-9]\d*",
                         (tmp_path / "server.log").read_text())  # the real port, not 0
        parties = set_up_a_site(env, server.url)
        for n in range(1, 21, 2):  # new connections: the kernel hands them to either worker
            with client_of(server) as other:
                sent = other.post("/v1/taps", json={"taps": shift(n)},
                                  headers=bearer(parties.reader))
                records = read(other, f"/v1/workers/{TECHNICIAN}/records", parties.worker,
                               sent.json()["position"], date_from=TAP_DAY, date_to=TAP_DAY)
                assert [r["work_date"] for r in records["items"]] == [TAP_DAY]
        with psycopg.connect(postgres_url) as conn:
            holders = conn.execute(  # in this database: other tests' servers may be stopping
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = %s "
                "AND l.database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())", [LOCK_KEY]).fetchall()
        # one projector per database, and not a worker: the process that supervises them
        assert holders == [(f"{LOCK_HOLDER} {server.process.pid}",)]
        assert client.get("/v1/ready").json()["projecting_here"] is False
        assert client.get("/v1/ready").json()["projection_position"] >= sent.json()["position"]


def test_each_worker_listens_on_a_socket_of_its_own_and_new_connections_reach_every_one(
    env: dict[str, str], tmp_path: Path
) -> None:
    """SO_REUSEPORT: one listening socket per worker on the server's port, none in the
    supervisor, and the kernel spreads new connections over them. With one socket shared by
    every worker, a burst of new connections went mostly to whichever worker woke first.

    40 connections spread evenly leave a worker fewer than 5 about once in 10⁶ runs."""
    with serving_workers(env, tmp_path / "server.log", 2) as server:
        port = int(server.url.rsplit(":", 1)[1])
        listeners = listeners_by_worker(server.process.pid, port, 2)
        workers = sorted(listeners)
        assert len(workers) == 2 and len(tcp_sockets(port, LISTEN)) == 2
        assert all(len(held) == 1 for held in listeners.values())
        assert server.process.pid not in workers
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        try:
            for client in clients:  # answered: the connection was accepted by a worker
                client.sendall(b"GET /v1/health HTTP/1.1\r\nHost: ledger\r\n\r\n")
                assert client.recv(65536).startswith(b"HTTP/1.1 200")
            accepted = tcp_sockets(port, ESTABLISHED)
            owned = socket_inodes(server.process.pid)
            per_worker = {pid: len(owned.get(pid, set()) & accepted) for pid in workers}
        finally:
            for client in clients:
                client.close()
        assert sum(per_worker.values()) == 40
        assert min(per_worker.values()) >= 5, per_worker


def test_a_worker_killed_is_replaced_by_one_listening_on_a_socket_of_its_own(
    env: dict[str, str], tmp_path: Path
) -> None:
    """uvicorn restarts a worker that died; the new one makes its own socket as it starts (the
    socket list uvicorn hands its workers makes it), and new connections meanwhile go to the
    worker still listening."""
    with serving_workers(env, tmp_path / "server.log", 2) as server, \
            client_of(server) as client:
        port = int(server.url.rsplit(":", 1)[1])
        first = listeners_by_worker(server.process.pid, port, 2)
        killed = sorted(first)[0]
        os.kill(killed, signal.SIGKILL)
        for _ in range(20):  # each one a new connection
            with client_of(server) as other:
                assert other.get("/v1/health").status_code == 200
        for _ in range(1200):  # uvicorn looks after its workers every half second or so
            now = listeners_by_worker(server.process.pid, port)
            if len(now) == 2 and killed not in now:
                break
            time.sleep(0.05)
        assert len(now) == 2 and killed not in now, now
        assert len(set().union(*now.values())) == 2  # a socket each, not one shared
        assert client.get("/v1/ready").status_code == 200


def listeners_by_worker(supervisor: int, port: int, wanted: int = 0) -> dict[int, set[int]]:
    """The supervisor's processes that listen on `port`, with their listening sockets; with
    `wanted`, once that many listen (a worker answers before the other has started)."""
    for _ in range(1200):
        listening = tcp_sockets(port, LISTEN)
        if len(listening) >= wanted:
            break
        time.sleep(0.05)
    return {pid: held for pid, owned in socket_inodes(supervisor).items()
            if (held := owned & listening)}


LISTEN, ESTABLISHED = "0A", "01"


def tcp_sockets(port: int, state: str) -> set[int]:
    """The inodes of this machine's IPv4 TCP sockets on local `port` in `state`."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
            found.add(int(fields[9]))
    return found


def socket_inodes(supervisor: int) -> dict[int, set[int]]:
    """The open sockets (their inodes) of the supervisor and of each process it started."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return {pid: {inode for fd in Path(f"/proc/{pid}/fd").iterdir()
                  if (inode := socket_inode(fd))}
            for pid in (supervisor, *map(int, children))}


def socket_inode(fd: Path) -> int | None:
    try:
        target = os.readlink(fd)
    except FileNotFoundError:  # closed meanwhile
        return None
    return int(target[8:-1]) if target.startswith("socket:[") else None


def test_several_workers_with_the_projection_off_run_no_projector(
    env: dict[str, str], postgres_url: str, tmp_path: Path
) -> None:
    """LEDGER_API_PROJECTION=false (a separate `ledger project --follow` keeps the read models):
    neither the supervisor nor a worker projects."""
    off = {**env, "LEDGER_API_PROJECTION": "false"}
    with serving_workers(off, tmp_path / "server.log", 2) as server, client_of(server) as client:
        assert client.get("/v1/ready").json()["projecting_here"] is False
        # A projector in the supervisor starts before the workers, and would hold the lock by now
        with psycopg.connect(postgres_url) as conn:
            held = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objid = %s AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())", [LOCK_KEY]).fetchone()
        assert held == (0,)
