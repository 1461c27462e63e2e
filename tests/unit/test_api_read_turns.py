"""A process's queries take turns to read: at most as many read at once as it has read-model
connections; the others wait in the event loop, and past the wait they are answered 503."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from api.problems import Unavailable
from api.reading import ReadPool
from ledger.settings import Settings


def pool(tmp_path: Path, size: int, wait_seconds: float) -> ReadPool:
    return ReadPool(Settings(database_url=f"sqlite:///{tmp_path}/ledger.db"), size, wait_seconds)


def test_no_more_queries_read_at_once_than_the_pool_has_connections(tmp_path: Path) -> None:
    reads = pool(tmp_path, 2, 5.0)
    reading, most = 0, 0

    async def query() -> None:
        nonlocal reading, most
        async with reads.turn():
            reading += 1
            most = max(most, reading)
            await asyncio.sleep(0.01)
            reading -= 1

    async def clients() -> None:
        await asyncio.gather(*(query() for _ in range(10)))

    asyncio.run(clients())
    assert most == 2


def test_a_query_that_waits_too_long_for_its_turn_is_answered_503(tmp_path: Path) -> None:
    reads = pool(tmp_path, 1, 0.05)
    answered: list[str] = []

    async def slow() -> None:
        async with reads.turn():
            await asyncio.sleep(0.5)
            answered.append("slow")

    async def waiting() -> None:
        await asyncio.sleep(0.01)  # after the slow one has its turn
        with pytest.raises(Unavailable, match="busy"):
            async with reads.turn():
                answered.append("never")
        answered.append("refused")

    async def clients() -> None:
        await asyncio.gather(slow(), waiting())
        async with reads.turn():  # the turn was given back
            answered.append("next")

    asyncio.run(clients())
    assert answered == ["refused", "slow", "next"]
