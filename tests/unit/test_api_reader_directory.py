"""Reader → site lookups: active readers cached for a while, absent and retired ones never."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from api.reader_directory import ReaderDirectory
from ledger.errors import NotPermitted, UnknownReference


@dataclass
class FakeReader:
    reader_id: str
    site_id: str
    retired: bool = False


class FakeLedger:
    def __init__(self) -> None:
        self.readers: dict[str, FakeReader] = {}
        self.lookups = 0

    def reader(self, reader_id: str) -> FakeReader:
        self.lookups += 1
        if reader_id not in self.readers:
            raise UnknownReference("reader_id", "reader_id.exists", "is not registered")
        return self.readers[reader_id]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def directory(ttl: float = 30.0) -> tuple[ReaderDirectory, FakeLedger, Clock]:
    ledger, clock = FakeLedger(), Clock()
    fake: Any = ledger
    return ReaderDirectory(fake, ttl, clock), ledger, clock


def test_an_active_reader_is_looked_up_once_per_period() -> None:
    readers, ledger, clock = directory()
    ledger.readers["G"] = FakeReader("G", "S1")
    assert [readers.active_site("G") for _ in range(3)] == ["S1"] * 3
    assert ledger.lookups == 1
    clock.now += 30
    ledger.readers["G"].retired = True
    with pytest.raises(NotPermitted):
        readers.active_site("G")
    assert ledger.lookups == 2


def test_an_absent_reader_is_looked_up_every_time() -> None:
    readers, ledger, _ = directory()
    for _ in range(2):
        with pytest.raises(UnknownReference):
            readers.active_site("G")
    assert ledger.lookups == 2
    ledger.readers["G"] = FakeReader("G", "S1")  # registered after its key was made
    assert readers.active_site("G") == "S1"


def test_forgetting_a_reader_asks_the_ledger_again() -> None:
    readers, ledger, _ = directory()
    ledger.readers["G"] = FakeReader("G", "S1")
    readers.active_site("G")
    ledger.readers["G"].retired = True
    readers.forget("G")
    assert readers.site_of("G") is None
