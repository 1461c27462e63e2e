"""A process's queries take turns to read: at most as many read at once as it has read-model
connections; the others wait in the event loop, and past the wait they are answered 503."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from api.problems import Unavailable
from api.reading import ReadPool
from ledger.settings import Settings


def pool(tmp_path: Path, size: int, wait_seconds: float) -> ReadPool:
    return ReadPool(Settings(database_url=f"sqlite:///{tmp_path}/ledger.db"), size, wait_seconds)


def test_no_more_queries_read_at_once_than_the_pool_has_connections(tmp_path: Path) -> None:
    reads = pool(tmp_path, 2, 5.0)
    lock = threading.Lock()
    reading, most, threads = 0, 0, set()

    def query() -> str:
        nonlocal reading, most
        with lock:
            reading += 1
            most = max(most, reading)
            threads.add(threading.current_thread().name)
        time.sleep(0.01)
        with lock:
            reading -= 1
        return "answer"

    async def clients() -> list[str]:
        return await asyncio.gather(*(reads.run(query) for _ in range(10)))

    try:
        assert asyncio.run(clients()) == ["answer"] * 10
    finally:
        reads.close()
    assert most == 2
    assert len(threads) == 2 and threading.current_thread().name not in threads


def test_a_query_that_waits_too_long_for_its_turn_is_answered_503(tmp_path: Path) -> None:
    reads = pool(tmp_path, 1, 0.05)
    answered: list[str] = []

    async def slow() -> None:
        answered.append(await reads.run(lambda: time.sleep(0.5) or "slow"))

    async def waiting() -> None:
        await asyncio.sleep(0.01)  # after the slow one has its turn
        with pytest.raises(Unavailable, match="busy"):
            await reads.run(lambda: "never")
        answered.append("refused")

    async def clients() -> None:
        await asyncio.gather(slow(), waiting())
        answered.append(await reads.run(lambda: "next"))  # the turn was given back

    try:
        asyncio.run(clients())
    finally:
        reads.close()
    assert answered == ["refused", "slow", "next"]
