"""The tap-wave simulator: realistic, repeatable waves through the real agent and spool."""

import random
import threading
from datetime import date, time, timedelta
from pathlib import Path

import pytest

from ledger.clock import JST, FixedClock
from ledger.domain.taps import Direction
from readers.agent import GateAgent
from readers.simulator import QuietFeedback, feed, plan_day, worker_cards
from readers.spool import Spool

SITE, DAY = "12345678901234", date(2025, 6, 2)


def test_each_worker_has_a_stable_valid_card() -> None:
    cards = worker_cards(SITE, 50)
    assert cards == worker_cards(SITE, 50) and len({c.card_id for c in cards}) == 50
    assert all(c.card_id is not None and c.card_id.startswith("04") for c in cards)
    with pytest.raises(ValueError, match="site_id"):
        worker_cards("12", 5)


def test_the_day_has_a_morning_and_an_evening_wave_in_jst() -> None:
    plan = plan_day(SITE, 500, DAY, random.Random(7))
    assert plan == sorted(plan, key=lambda p: p.at)
    assert plan == plan_day(SITE, 500, DAY, random.Random(7))  # same seed, same waves
    morning = [p for p in plan if p.at.time() < time(12)]
    evening = [p for p in plan if p.at.time() >= time(12)]
    assert all(p.at.date() == DAY and p.at.utcoffset() == timedelta(hours=9) for p in plan)
    assert all(time(6, 30) <= p.at.time() <= time(8, 31) for p in morning)
    assert all(time(16, 30) <= p.at.time() <= time(19, 31) for p in evening)
    assert len({p.identity for p in morning}) == 500  # everyone arrives
    assert 450 < len({p.identity for p in evening}) < 500  # a few forget to tap out
    assert len(morning) > 500  # and some tap twice to be sure


def test_fed_through_the_agent_repeats_are_debounced_and_auto_gives_in_then_out(
    tmp_path: Path,
) -> None:
    plan = plan_day(SITE, 100, DAY, random.Random(3))
    spool = Spool(tmp_path / "sim.db", "SIM-1", first_sequence=1)
    clock, feedback = FixedClock(plan[0].at), QuietFeedback()
    agent = GateAgent(spool, feedback=feedback, clock=clock, debounce=timedelta(seconds=10))
    assert feed(agent, clock, plan, rate=0, stop=threading.Event()) == len(plan)
    taps = spool.taps()
    assert feedback.accepted_count == len(taps) and feedback.failures == []
    assert feedback.accepted_count + feedback.repeated_count == len(plan)
    assert feedback.repeated_count > 0
    for tap in taps:
        expected = Direction.IN if tap.reader_time.time() < time(12) else Direction.OUT
        assert tap.direction is expected and tap.reader_time.tzinfo is not None
        assert tap.reader_time.astimezone(JST).date() == DAY


def test_feeding_stops_when_asked() -> None:
    stop = threading.Event()
    stop.set()
    plan = plan_day(SITE, 10, DAY, random.Random(1))
    assert feed(None, FixedClock(plan[0].at), plan, rate=0, stop=stop) == 0  # type: ignore[arg-type]
