"""A small world for the job tests (no tests here): two primes, a subcontract tree, an electronic
and a stamp site, enrolled and non-enrolled workers, readers and cards, registered in May 2025."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import count

from ledger.actors import SYSTEM, Actor, Role
from ledger.application import Ledger
from ledger.clock import JST, FixedClock
from ledger.domain.taps import Direction, TapObservation
from ledger.ids import CardId, ReaderId, TapId
from ledger.settings import Settings
from projections.jobs.common import catch_up
from projections.store import ReadStore

ADMIN = Actor(Role.ADMIN, "office")
PRIME, SUB, SUB2, OTHER = "100", "200", "300", "400"
SITE, SITE_B, STAMP_SITE = "10000000000001", "10000000000002", "10000000000003"
T1, T2, T3 = "11111111111111", "22222222222222", "33333333333333"  # T3 is not enrolled
CARDS = {T1: "0A000001", T2: "0A000002", T3: "0A000003"}
READERS = {SITE: "GATE-1", SITE_B: "GATE-B", STAMP_SITE: "GATE-S"}
ENROLLED = date(2021, 1, 1)
BUILT_AT = datetime(2025, 5, 1, 9, 0, tzinfo=JST)


def jst(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=JST)


@dataclass
class World:
    ledger: Ledger
    settings: Settings
    clock: FixedClock
    store: ReadStore
    sequence: Iterator[int] = field(default_factory=lambda: count(1))

    @classmethod
    @contextmanager
    def built(
        cls, ledger: Ledger, settings: Settings, clock: FixedClock, at: datetime = BUILT_AT,
        opened_on: date = date(2025, 5, 1),
    ) -> Iterator[World]:
        clock.at = at
        world = cls(ledger, settings, clock, ReadStore(settings))
        try:
            world._register(opened_on)
            yield world
        finally:
            world.store.close()

    def _register(self, opened_on: date) -> None:
        ledger = self.ledger
        for business_id, name in ((PRIME, "鈴木建設"), (SUB, "田中鉄筋"), (SUB2, "山本工業"),
                                  (OTHER, "佐藤電気")):
            ledger.register_business(business_id, name, ADMIN)
            ledger.enroll_business_in_kentaikyo(business_id, f"9{business_id}", ENROLLED, ADMIN)
        ledger.open_site(SITE, "新宿三丁目ビル", PRIME, "electronic", opened_on, ADMIN)
        ledger.open_site(SITE_B, "渋谷二丁目ビル", PRIME, "electronic", opened_on, ADMIN)
        ledger.open_site(STAMP_SITE, "品川倉庫", OTHER, "stamp", opened_on, ADMIN)
        for site in (SITE, SITE_B):
            ledger.add_subcontract(site, SUB, PRIME, ADMIN)
        ledger.add_subcontract(SITE, SUB2, SUB, ADMIN)
        ledger.add_subcontract(STAMP_SITE, SUB, OTHER, ADMIN)
        for technician, employer in ((T1, SUB), (T2, SUB2), (T3, SUB)):
            ledger.register_worker(technician, f"技能者{technician[:1]}", ADMIN)
            ledger.join_employer(technician, employer, date(2020, 4, 1), True, ADMIN)
            ledger.issue_card(CARDS[technician], technician, ADMIN)
            for site in (SITE, SITE_B, STAMP_SITE):
                if employer == SUB2 and site != SITE:
                    continue
                ledger.set_roster_entry(site, technician, employer, "鉄筋", "一般", opened_on,
                                        ADMIN)
        for technician in (T1, T2):
            ledger.enroll_worker_in_kentaikyo(technician, f"8{technician[:4]}", ENROLLED, ADMIN)
        for site, reader in READERS.items():
            ledger.register_reader(reader, site, "auto", ADMIN)

    def tap(self, site: str, card: str, direction: str, at: datetime) -> int:
        """A tap at `at`, received half a minute later (the clock moves there if behind)."""
        self.clock.at = max(self.clock.at, at + timedelta(seconds=30))
        reader = READERS[site]
        (receipt,) = self.ledger.record_taps(
            [TapObservation(TapId(f"{reader}:{next(self.sequence)}"), ReaderId(reader),
                            Direction(direction), at, card_id=CardId(card))], SYSTEM)
        assert receipt.position is not None
        return receipt.position

    def work(self, site: str, technician: str, day: date, start: int = 8, end: int = 17) -> None:
        """A full day: in at `start`, out at `end` (JST)."""
        self.tap(site, CARDS[technician], "in", jst(day.year, day.month, day.day, start))
        self.tap(site, CARDS[technician], "out", jst(day.year, day.month, day.day, end))

    def catch_up(self) -> int:
        return catch_up(self.ledger, self.store)

    def event_count(self) -> int:
        return self.ledger.log_position()
