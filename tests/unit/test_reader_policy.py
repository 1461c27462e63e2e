"""Debounce and direction: the gate's two rules, as pure functions."""

from datetime import datetime, timedelta

import pytest

from ledger.clock import JST
from ledger.domain.registry import DirectionMode
from ledger.domain.taps import Direction
from readers.backoff import Backoff
from readers.policy import direction_for, is_repeat, parse_direction_mode

AT = datetime(2025, 6, 2, 7, 58, tzinfo=JST)
WINDOW = timedelta(seconds=10)


def test_the_same_card_within_the_window_is_a_repeat_and_after_it_a_new_tap() -> None:
    assert not is_repeat(None, AT, WINDOW)
    assert is_repeat(AT, AT, WINDOW)
    assert is_repeat(AT, AT + timedelta(seconds=9.9), WINDOW)
    assert not is_repeat(AT, AT + WINDOW, WINDOW)


def test_a_reader_clock_that_jumped_back_never_swallows_a_tap() -> None:
    assert not is_repeat(AT, AT - timedelta(seconds=1), WINDOW)


def test_fixed_modes_ignore_the_count_and_auto_alternates_in_out() -> None:
    assert [direction_for(DirectionMode.IN, n) for n in range(3)] == [Direction.IN] * 3
    assert [direction_for(DirectionMode.OUT, n) for n in range(3)] == [Direction.OUT] * 3
    assert [direction_for(DirectionMode.AUTO, n) for n in range(4)] == [
        Direction.IN, Direction.OUT, Direction.IN, Direction.OUT]


def test_an_unknown_direction_mode_is_named() -> None:
    assert parse_direction_mode("auto") is DirectionMode.AUTO
    with pytest.raises(ValueError, match="'sideways' is not in, out or auto"):
        parse_direction_mode("sideways")


class FixedRandom:
    def __init__(self, value: float) -> None:
        self.value = value

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.value


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    low = Backoff(base=1, cap=8, rng=FixedRandom(0.0))  # type: ignore[arg-type]
    high = Backoff(base=1, cap=8, rng=FixedRandom(1.0))  # type: ignore[arg-type]
    assert [low.next_delay() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    assert [high.next_delay() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    high.reset()
    assert high.next_delay() == 1


def test_backoff_refuses_a_cap_below_its_base() -> None:
    with pytest.raises(ValueError, match="base"):
        Backoff(base=5, cap=1)
