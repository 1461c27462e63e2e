"""The serving stack's floor for a career read, for `make bench`: the least a career request
could cost on this stack, with nothing of the ledger's.

The same stack as `ledger serve --workers 2` (uvicorn, FastAPI, psycopg on a pool of reading
threads, each worker on a listening socket of its own), answering with the two statements a
career read cannot do without: the key's row for the bearer token (the API's own statement,
`ledger.storage.keys.ACTIVE_KEY`, and for a scoped key its scope, `SCOPE_OF`), and the worker's
days by month. No hash comparison, role or privacy scope, read-your-writes position, summary
arithmetic or response model of the ledger's: what the ledger's own route costs beyond this is
its own.

Run as ``python -m tests.bench.floor_app PORT`` with LEDGER_DATABASE_URL set.
"""

from __future__ import annotations

import asyncio
import os
import queue
import socket
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import date
from typing import cast

import psycopg
import uvicorn
from fastapi import FastAPI, Request
from pydantic import BaseModel
from uvicorn.supervisors import Multiprocess

from api.cli.serve import WorkerListener, listening_socket
from ledger.storage.keys import ACTIVE_KEY, SCOPE_OF

READING_THREADS = 4  # api.config's read_connections
WORKERS = 2
KEY = ACTIVE_KEY  # the columns today's key lookup reads (expiry, scope kind, grant)
MONTHS = ("SELECT month, trade, employer_business_id, site_id, day_bits FROM work_day_months "
          "WHERE technician_id = %s AND month >= %s AND month <= %s ORDER BY month")


class Months(BaseModel):
    technician_id: str
    months: int


def create_app() -> FastAPI:
    url = os.environ["LEDGER_DATABASE_URL"]
    connections: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
    threads = ThreadPoolExecutor(READING_THREADS)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for _ in range(READING_THREADS):
            connections.put(psycopg.connect(url, autocommit=True))
        yield
        threads.shutdown()
        while not connections.empty():
            connections.get().close()

    app = FastAPI(lifespan=lifespan)

    def read(key_id: str, technician_id: str, date_from: date, date_to: date) -> Months:
        conn = connections.get()
        try:
            key = conn.execute(KEY, [key_id]).fetchall()
            if key and key[0][4] is not None:  # scope_kind: a scoped key's second statement
                conn.execute(SCOPE_OF, [key_id]).fetchall()
            rows = conn.execute(MONTHS, [technician_id, date_from.replace(day=1),
                                         date_to.replace(day=1)]).fetchall()
        finally:
            connections.put(conn)
        return Months(technician_id=technician_id, months=len(rows))

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/workers/{technician_id}/career")
    async def career(technician_id: str, date_from: date, date_to: date,
                     request: Request) -> Months:
        key_id = request.headers.get("authorization", "").partition("_")[2][:16]
        return await asyncio.get_running_loop().run_in_executor(
            threads, read, key_id, technician_id, date_from, date_to)

    return app


def main() -> None:
    port = int(sys.argv[1])
    config = uvicorn.Config("tests.bench.floor_app:create_app", factory=True, port=port,
                            workers=WORKERS, access_log=False, log_level="warning")
    address = listening_socket("127.0.0.1", port)
    listener = cast("socket.socket", WorkerListener("127.0.0.1", address.getsockname()[1]))
    Multiprocess(config, sockets=[listener]).run()


if __name__ == "__main__":
    main()
