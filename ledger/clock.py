"""Time: JST work dates, deadlines, and a clock that tests can control."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Protocol

from ledger.errors import InvalidValue

JST = timezone(timedelta(hours=9), "JST")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and replays: it says what it was told, and can be moved."""

    def __init__(self, at: datetime) -> None:
        self.at = require_aware(at, "now")

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


_clock: Clock = SystemClock()


def now() -> datetime:
    """The ledger's current time (UTC, aware). Event timestamps come from here."""
    return _clock.now()


def set_clock(clock: Clock) -> Clock:
    global _clock
    previous, _clock = _clock, clock
    return previous


@contextmanager
def clock_at(at: datetime) -> Iterator[FixedClock]:
    fixed = FixedClock(at)
    previous = set_clock(fixed)
    try:
        yield fixed
    finally:
        set_clock(previous)


# What the ledger accepts as a business date or time from a command, and what the read side is
# sure to compute with: JST dates, windows of days either side, months, on both databases. Python
# stops at years 1 and 9999 (a tap at 9999-12-31 JST overflowed its window and stopped the
# projection); these bounds leave centuries of room on both sides.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=JST)  # so that a moment's JST date is in range
LATEST_MOMENT = datetime(2200, 1, 1, tzinfo=JST)


def require_in_range(day: date, field: str) -> date:
    """A date a command stores: within the ledger's range (rule ``<field>.range``)."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise InvalidValue(
            field, f"{field}.range", f"{day} is not between {EARLIEST_DATE} and {LATEST_DATE}"
        )
    return day


def require_moment(value: datetime, field: str) -> datetime:
    """An aware date-time a command stores, within the ledger's range."""
    require_aware(value, field)
    if not EARLIEST_MOMENT <= value < LATEST_MOMENT:
        raise InvalidValue(
            field,
            f"{field}.range",
            f"{value.isoformat()} is not between {EARLIEST_MOMENT.isoformat()} and "
            f"{LATEST_MOMENT.isoformat()} (exclusive)",
        )
    return value


def projectable(moment: datetime) -> datetime:
    """A reader's clock as the read side uses it. A tap is stored with the reader's time as sent,
    however wrong (nothing a reader sends is dropped), and the projection reads a time outside
    the ledger's range as the nearest bound; the tap is flagged ``clock_skew`` either way."""
    if 1900 < moment.year < 2199:  # the hot path (every tap the projection reads): no tz math
        return moment
    if moment < EARLIEST_MOMENT:
        return EARLIEST_MOMENT
    if moment >= LATEST_MOMENT:
        return LATEST_MOMENT - timedelta(microseconds=1)
    return moment


def require_aware(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidValue(field, f"{field}.type", f"{value!r} is not a date-time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(field, f"{field}.timezone", f"{value.isoformat()} has no time zone")
    return value


def parse_datetime(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidValue(
            field, f"{field}.format", f"{text!r} is not an ISO 8601 date-time"
        ) from None
    return require_aware(value, field)


def parse_date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidValue(
            field, f"{field}.format", f"{text!r} is not a date (YYYY-MM-DD)"
        ) from None


def work_date_of(moment: datetime) -> date:
    """The JST calendar date a moment falls on (就業日)."""
    return require_aware(moment, "time").astimezone(JST).date()


def jst_date(moment: datetime) -> date:
    """``work_date_of`` for times already known to be aware (stored ones): the projection's hot
    path calls it for every tap."""
    return moment.astimezone(JST).date()


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def approval_deadline(work_date: date) -> datetime:
    """Last moment (exclusive) for entering or approving a manual entry: the end of the month after
    the work date, JST. Returned as the first instant of the month after that."""
    next_month_end = end_of_month(end_of_month(work_date) + timedelta(days=1))
    return datetime.combine(next_month_end + timedelta(days=1), time(0), JST)
