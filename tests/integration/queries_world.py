"""The scene the query and audit tests share (this module holds no tests).

Everything is built through the Ledger's use cases and taps, then projected with the real runner,
on SQLite and PostgreSQL alike (``database_url``). Built on ``tests/integration/world.py``:
prime 100 (鈴木建設) with SITE, subcontractor 200 (田中鉄筋) employing TECHNICIAN (card CARD,
鉄筋 一般 on SITE's roster, reader GATE-1), and 300 (佐藤電気), the prime of another site.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from uuid import UUID

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger, TapReceipt
from ledger.clock import JST, FixedClock
from ledger.domain.taps import Direction, TapObservation
from ledger.ids import CardId, ReaderId, TapId
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.store import ReadStore, Tx
from tests.integration.world import (
    ADMIN,
    EMPLOYER_ADMIN,
    OTHER,
    PRIME,
    PRIME_STAFF,
    SITE,
    SUB,
    TECHNICIAN,
    register_world,
)

CARD = "04A1B2C3"
SITE_B = "10000000000002"  # PRIME's second site, reader GATE-B
OTHER_SITE = "30000000000001"  # OTHER's site, reader GATE-O
SUB2 = "210"  # under SUB on SITE (tier 2)
TECH_2, TECH_3 = "12345678900002", "12345678900003"
CARD_2, CARD_3 = "0000BEEF0002", "0000BEEF0003"
OTHER_STAFF = Actor(Role.PRIME_CONTRACTOR, OTHER)

__all__ = ["ADMIN", "CARD", "CARD_2", "CARD_3", "EMPLOYER_ADMIN", "OTHER", "OTHER_SITE",
           "OTHER_STAFF", "PRIME", "PRIME_STAFF", "SITE", "SITE_B", "SUB", "SUB2", "TECHNICIAN",
           "TECH_2", "TECH_3", "Scene", "jst"]


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JST)


class Scene:
    def __init__(self, ledger: Ledger, settings: Settings, now: FixedClock) -> None:
        self.ledger, self.now = ledger, now
        self.store = ReadStore(settings)
        self._sequence = itertools.count(1)
        register_world(ledger)

    # -- building --------------------------------------------------------------------------
    def open_site(self, site_id: str, prime: str, reader_id: str,
                  method: str = "electronic", subcontractors: tuple[str, ...] = (SUB,)) -> None:
        self.ledger.open_site(site_id, f"現場 {site_id}", prime, method, date(2020, 1, 6), ADMIN)
        for business_id in subcontractors:
            self.ledger.add_subcontract(site_id, business_id, prime, ADMIN)
        self.ledger.register_reader(reader_id, site_id, "auto", ADMIN)

    def worker(self, technician_id: str, employer: str, card_id: str | None = None) -> None:
        self.ledger.register_worker(technician_id, f"技能者 {technician_id[-2:]}", ADMIN)
        self.ledger.join_employer(technician_id, employer, date(2020, 4, 1), True, ADMIN)
        if card_id is not None:
            self.ledger.issue_card(card_id, technician_id, ADMIN)

    def roster(self, site_id: str, technician_id: str, employer: str, trade: str = "鉄筋",
               position: str = "一般") -> None:
        self.ledger.set_roster_entry(site_id, technician_id, employer, trade, position,
                                     date(2020, 1, 6), ADMIN)

    def tap(self, reader_id: str, direction: str, at: datetime, card_id: str = CARD,
            actor: Actor = ADMIN, received_at: datetime | None = None) -> TapReceipt:
        """A tap uploaded as it is made (received at `at`) unless `received_at` says otherwise:
        a reader's clock is judged both ways against the receive time."""
        observation = TapObservation(TapId(f"{reader_id}:{next(self._sequence)}"),
                                     ReaderId(reader_id), Direction(direction), at,
                                     card_id=CardId(card_id))
        with clock.clock_at(received_at or at):
            return self.ledger.record_taps([observation], actor)[0]

    def shift(self, reader_id: str, start: datetime, hours: float = 9,
              card_id: str = CARD) -> None:
        """An entry at ``start`` and an exit ``hours`` later."""
        self.tap(reader_id, "in", start, card_id)
        self.tap(reader_id, "out", start + timedelta(hours=hours), card_id)

    def manual_entry(self, work_date: date, site_id: str = SITE, position: str = "一般",
                     technician_id: str = TECHNICIAN, employer: str = SUB) -> UUID:
        return self.ledger.request_manual_entry(
            technician_id, site_id, work_date, employer, "鉄筋", position, "配筋",
            Actor(Role.EMPLOYER, employer),
            entry_at=jst(work_date.year, work_date.month, work_date.day, 8),
            exit_at=jst(work_date.year, work_date.month, work_date.day, 17), note="カード忘れ")

    # -- reading ---------------------------------------------------------------------------
    def project(self) -> None:
        runner = LogFollower(self.ledger, self.store)
        runner.catch_up()
        assert runner.position() == self.ledger.log_position()

    @contextmanager
    def read(self) -> Iterator[Tx]:
        self.project()
        with self.store.read() as tx:
            yield tx

    @classmethod
    @contextmanager
    def built(cls, ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[Scene]:
        """For each test module's ``scene`` fixture (a fixture imported from here would be
        an unused import to the linter)."""
        scene = cls(ledger, settings, now)
        try:
            yield scene
        finally:
            scene.store.close()
