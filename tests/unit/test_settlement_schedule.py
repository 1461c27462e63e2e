"""Which periods a job owes at a given moment: month ends, the year end, leap years, runs missed
while the service was down, and the schedule's own time zone."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from ledger.clock import JST
from projections.jobs.config import JobSettings
from projections.jobs.scheduler import (
    BILL,
    CLOSE_DAY,
    EXPIRE,
    SEAL,
    SETTLE,
    Schedule,
    due_periods,
)

TOKYO = ZoneInfo("Asia/Tokyo")
SCHEDULE = Schedule.from_settings(JobSettings())


def due(job: str, now: datetime, last: str | None, schedule: Schedule = SCHEDULE) -> list[str]:
    return due_periods(job, now, last, schedule, TOKYO)


@pytest.mark.parametrize(("now", "last", "expected"), [
    (datetime(2025, 6, 20, 2, 0, tzinfo=JST), "2025-06-18", ["2025-06-19"]),
    (datetime(2025, 6, 20, 1, 59, tzinfo=JST), "2025-06-18", []),  # not yet 02:00
    (datetime(2025, 3, 1, 2, 0, tzinfo=JST), "2025-02-27", ["2025-02-28"]),
    (datetime(2024, 3, 1, 2, 0, tzinfo=JST), "2024-02-28", ["2024-02-29"]),  # leap day
    (datetime(2025, 1, 1, 2, 0, tzinfo=JST), "2024-12-30", ["2024-12-31"]),  # year end
    # 17:00 UTC on the 19th is 02:00 on the 20th in Tokyo
    (datetime(2025, 6, 19, 17, 0, tzinfo=ZoneInfo("UTC")), "2025-06-18", ["2025-06-19"]),
])
def test_a_day_is_closed_the_night_after(now: datetime, last: str, expected: list[str]) -> None:
    assert due(CLOSE_DAY, now, last) == expected


def test_days_missed_while_down_are_owed_oldest_first_within_the_catch_up_window() -> None:
    now = datetime(2025, 6, 20, 10, tzinfo=JST)
    assert due(CLOSE_DAY, now, "2025-06-16") == ["2025-06-17", "2025-06-18", "2025-06-19"]
    assert due(CLOSE_DAY, now, "2025-01-01") == [f"2025-06-{d}" for d in range(13, 20)]
    assert due(CLOSE_DAY, now, None) == ["2025-06-19"]  # a new install owes only the last
    assert due(SEAL, datetime(2025, 6, 20, 2, 59, tzinfo=JST), "2025-06-18") == []
    assert due(SEAL, datetime(2025, 6, 20, 3, 0, tzinfo=JST), "2025-06-18") == ["2025-06-19"]


def test_expiry_is_about_its_own_run_date() -> None:
    assert due(EXPIRE, datetime(2025, 7, 1, 2, 30, tzinfo=JST), "2025-06-30") == ["2025-07-01"]
    assert due(EXPIRE, datetime(2025, 7, 1, 2, 29, tzinfo=JST), "2025-06-30") == []


@pytest.mark.parametrize(("now", "last", "expected"), [
    (datetime(2025, 7, 10, 4, 0, tzinfo=JST), "2025-05", ["2025-06"]),
    (datetime(2025, 7, 10, 3, 59, tzinfo=JST), "2025-05", []),
    (datetime(2025, 7, 9, 23, 0, tzinfo=JST), "2025-05", []),
    (datetime(2025, 7, 31, 23, 0, tzinfo=JST), "2025-05", ["2025-06"]),  # down on the 10th
    (datetime(2025, 1, 10, 4, 0, tzinfo=JST), "2024-11", ["2024-12"]),  # year end
    (datetime(2024, 3, 10, 4, 0, tzinfo=JST), "2024-01", ["2024-02"]),  # leap February
    (datetime(2025, 9, 15, 12, 0, tzinfo=JST), "2025-05", ["2025-06", "2025-07", "2025-08"]),
    (datetime(2025, 9, 15, 12, 0, tzinfo=JST), "2024-01", ["2025-06", "2025-07", "2025-08"]),
    (datetime(2025, 9, 15, 12, 0, tzinfo=JST), None, ["2025-08"]),
])
def test_the_previous_month_is_settled_on_its_day(
    now: datetime, last: str | None, expected: list[str]
) -> None:
    assert due(SETTLE, now, last) == expected


def test_settle_and_bill_days_and_times_come_from_the_settings() -> None:
    schedule = Schedule.from_settings(JobSettings(settle_day=28, settle_at=time(23, 30),
                                                  bill_day=1, bill_at=time(0, 0)))
    at = datetime(2025, 3, 28, 23, 30, tzinfo=JST)
    assert due(SETTLE, at, "2025-01", schedule) == ["2025-02"]
    assert due(SETTLE, at.replace(minute=29), "2025-01", schedule) == []
    assert due(BILL, datetime(2025, 3, 1, 0, 0, tzinfo=JST), "2025-01", schedule) == ["2025-02"]


def test_the_settle_day_must_exist_in_every_month() -> None:
    with pytest.raises(ValueError, match="settle_day"):
        JobSettings(settle_day=31)
