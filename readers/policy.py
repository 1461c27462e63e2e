"""The gate's two small rules: debounce and direction. Pure functions; the spool applies them
inside the transaction that stores the tap, so they hold across restarts."""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.directions import Direction, DirectionMode


def is_repeat(last_tap_at: datetime | None, now: datetime, window: timedelta) -> bool:
    """The same card again within ``window`` of its last tap is that tap, not a new one (a card
    held against the reader, or a second tap "to be sure").

    A reader clock that jumped backwards gives a negative gap; that is never a repeat, so a clock
    fault cannot swallow a worker's tap.
    """
    if last_tap_at is None:
        return False
    return timedelta(0) <= now - last_tap_at < window


def direction_for(mode: DirectionMode, taps_today: int) -> Direction:
    """A reader's direction mode applied to a worker's ``taps_today`` earlier taps (this JST
    date). ``auto`` alternates: the 1st, 3rd … tap of the day is ``in``, the 2nd, 4th … ``out``."""
    if mode is DirectionMode.IN:
        return Direction.IN
    if mode is DirectionMode.OUT:
        return Direction.OUT
    return Direction.IN if taps_today % 2 == 0 else Direction.OUT


def parse_direction_mode(text: str) -> DirectionMode:
    try:
        return DirectionMode(text)
    except ValueError:
        raise ValueError(f"direction mode {text!r} is not in, out or auto") from None
