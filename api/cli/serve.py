"""`ledger serve`: migrate, make sure someone can log in, and run the HTTP API with uvicorn.

The served app runs the projection and, unless LEDGER_API_SCHEDULER=false, the nightly jobs'
scheduler (an app made any other way, as in tests, runs no scheduler unless told to). With
several workers the projection runs in the process that supervises them, not in a worker.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, cast

import typer
import uvicorn
from uvicorn.supervisors import Multiprocess

from api.cli.common import command, console
from api.config import get_api_settings
from ledger.actors import Role
from ledger.application import Ledger
from ledger.settings import Settings, get_settings
from ledger.storage.keys import KeyStore
from ledger.storage.migrate import migrate
from projections.leader import ProjectionService

FIRST_ADMIN = "first-admin"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # api.metrics's; not imported: see below


def ensure_an_admin(store: KeyStore) -> None:
    """With no active admin key there is no way in: create one and print its token once."""
    if store.active_count(Role.ADMIN):
        console.print("make keys with: ledger keys create --role admin --name NAME "
                      "(or --role reader --reader ID, --role employer --business ID, …)")
        return
    issued = store.create(Role.ADMIN, FIRST_ADMIN)
    console.print(f"no admin key existed: created key {issued.key.key_id} ({FIRST_ADMIN}). "
                  "Its token is shown only now; keep it secret:", highlight=False)
    print(issued.token, flush=True)


@command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free port)")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Processes, each with its own Ledger")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request")] = True,
) -> None:
    """Run the HTTP API (uvicorn), migrating the database first."""
    share_metrics_between_workers()
    settings = get_settings()
    applied = migrate(settings)
    target = "PostgreSQL" if settings.is_postgres else f"SQLite {settings.sqlite_path}"
    console.print(f"{target}: applied {len(applied)} migration(s) {' '.join(applied)}".strip())
    store = KeyStore(settings)
    try:
        ensure_an_admin(store)
    finally:
        store.close()
    os.environ.setdefault("LEDGER_API_SCHEDULER", "true")  # read by each worker's settings
    console.print(f"serving http://{host}:{port}/v1 — OpenAPI at /v1/docs", highlight=False)
    console.print(f"web app http://{host}:{port}/app/ — sign in with a key", highlight=False)
    if workers == 1:
        uvicorn.run("api.main:served_app", factory=True, host=host, port=port,
                    access_log=access_log, log_level="info", log_config=None)
        return
    config = uvicorn.Config("api.main:served_app", factory=True, host=host, port=port,
                            workers=workers, access_log=access_log, log_level="info",
                            log_config=None)  # api.logs configures every logger
    address = listening_socket(host, port)
    bound_port = address.getsockname()[1]
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on http://%s:%d (Press CTRL+C to quit)", host, bound_port)
    listener = cast(socket.socket, WorkerListener(host, bound_port))
    with projecting_beside_the_workers(settings):
        Multiprocess(config, sockets=[listener]).run()
    address.close()


def share_metrics_between_workers() -> None:
    """prometheus-client's multi-process mode: every process of this service (workers, and
    the supervisor that projects) counts into files in one folder, and /metrics sums them.
    Set before the library is first imported (it chooses its storage then); the folder is
    emptied, since counts left by a previous run would be added to this one's."""
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()
    else:
        created = tempfile.mkdtemp(prefix="ledger-metrics-")
        os.environ[MULTIPROC_ENV] = created
        atexit.register(shutil.rmtree, created, ignore_errors=True)


@contextmanager
def projecting_beside_the_workers(settings: Settings) -> Iterator[None]:
    """With several workers, the projection runs here, in the process that supervises them, and
    the workers run none (unless LEDGER_API_PROJECTION turns the projection off altogether).

    In a worker it shared that worker's interpreter lock with the requests it served: under a
    batch ingest the projecting worker was saturated while the other one idled, and the clients
    it served set the pace. Here the same CPU serves more taps (figures in BENCHMARKS.md)."""
    if not get_api_settings().projection:
        yield
        return
    os.environ["LEDGER_API_PROJECTION"] = "false"  # read by each worker's settings
    ledger = Ledger(settings)
    service = ProjectionService(ledger, settings)
    service.start()
    try:
        yield
    finally:
        service.stop()
        ledger.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to the address with SO_REUSEPORT. The supervisor's holds the address (and
    picks the port for port 0) but does not listen; each worker listens on one of its own
    (`WorkerListener`).

    Made with IPPROTO_TCP rather than uvicorn's protocol 0, so that asyncio sets TCP_NODELAY on
    the connections it accepts: otherwise every small answer waits about 40 ms for the client's
    delayed ACK (Nagle's algorithm)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class WorkerListener:
    """A worker's own listening socket on the supervisor's address, with SO_REUSEPORT: the
    kernel hands each new connection to one of the workers' sockets by a hash of its addresses.

    With one socket shared by every worker, the worker that woke first accepted a whole burst
    of new connections, and keep-alive clients stay where they landed: 50 clients split 32/18
    to 44/6 between two workers, and the busier worker's clients waited about twice as long.

    uvicorn passes its workers their sockets by pickling them; this object pickles as the call
    that makes the worker's socket, so each worker (and each one uvicorn restarts) binds one of
    its own as it starts."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return listening_socket, (self.host, self.port)
