"""Simulated tap waves at one site: workers arrive for the 朝礼 (morning assembly) before 8:00 and
leave around 17:00-18:00. The taps go through the same agent, spool and uploader as real cards,
for demos and load tests."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ledger.clock import JST, FixedClock
from ledger.ids import SiteId
from readers.agent import GateAgent
from readers.identity import CardIdentity
from readers.spool import SpooledTap

DOUBLE_TAP = 0.04  # presents the card twice "to be sure", a few seconds apart
FORGETS_EXIT = 0.02  # leaves without tapping out
MORNING = (7 * 60 + 40, 12, 6 * 60 + 30, 8 * 60 + 30)  # mean, sd, earliest, latest (minutes)
EVENING = (17 * 60 + 30, 20, 16 * 60 + 30, 19 * 60 + 30)


@dataclass(frozen=True)
class PlannedTap:
    at: datetime
    identity: CardIdentity


def worker_cards(site_id: str, workers: int) -> list[CardIdentity]:
    """Stable 7-byte card UIDs (NXP style, starting 04) per site and worker number."""
    site_id = SiteId(site_id)
    if workers < 1:
        raise ValueError(f"workers {workers} must be at least 1")
    return [
        CardIdentity(card_id="04" + hashlib.sha256(f"{site_id}:{n}".encode()).hexdigest()[:12]
                     .upper())
        for n in range(workers)
    ]


def plan_day(site_id: str, workers: int, day: date, rng: random.Random) -> list[PlannedTap]:
    """One work day's taps at the gate, in time order."""
    plan: list[PlannedTap] = []
    for card in worker_cards(site_id, workers):
        plan += _presentations(card, _moment(day, MORNING, rng), rng)
        if rng.random() >= FORGETS_EXIT:
            plan += _presentations(card, _moment(day, EVENING, rng), rng)
    return sorted(plan, key=lambda planned: planned.at)


def _moment(day: date, wave: tuple[int, int, int, int], rng: random.Random) -> datetime:
    mean, sd, earliest, latest = wave
    minutes = min(max(rng.gauss(mean, sd), earliest), latest)
    return datetime.combine(day, datetime.min.time(), JST) + timedelta(minutes=minutes)


def _presentations(card: CardIdentity, at: datetime, rng: random.Random) -> list[PlannedTap]:
    taps = [PlannedTap(at, card)]
    if rng.random() < DOUBLE_TAP:
        taps.append(PlannedTap(at + timedelta(seconds=rng.uniform(1, 4)), card))
    return taps


@dataclass
class QuietFeedback:
    """Counts instead of logging every tap (a simulation makes thousands)."""

    accepted_count: int = 0
    repeated_count: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[tuple[str, list[str]]] = field(default_factory=list)

    def accepted(self, tap: SpooledTap) -> None:
        self.accepted_count += 1

    def repeated(self, identity: CardIdentity) -> None:
        self.repeated_count += 1

    def failed(self, reason: str) -> None:
        self.failures.append(reason)

    def warned(self, tap_id: str, warnings: list[str]) -> None:
        self.warnings.append((tap_id, warnings))


def feed(
    agent: GateAgent, clock: FixedClock, plan: Sequence[PlannedTap], rate: float,
    stop: threading.Event,
) -> int:
    """Present the planned cards to the agent, ``rate`` per second of wall-clock time (0: as
    fast as the spool allows). The agent's clock reads each tap's planned time. Returns how many
    were presented before ``stop``."""
    started = time.monotonic()
    for index, planned in enumerate(plan):
        delay = started + index / rate - time.monotonic() if rate > 0 else 0.0
        if stop.wait(delay) if delay > 0 else stop.is_set():
            return index
        clock.at = planned.at
        agent.card_read(planned.identity)
    return len(plan)
