"""Taps → work records, as the rules in DESIGN.md §2 say."""

from datetime import date, datetime, timedelta
from itertools import permutations

from ledger.clock import JST
from projections.derive import TapFact, derive_card_days

SHIFT = timedelta(hours=24)


def tap(n: int, hour: float, direction: str, day: int = 2) -> TapFact:
    at = datetime(2025, 6, day, 0, 0, tzinfo=JST) + timedelta(hours=hour)
    return TapFact(f"G:{n}", at, direction, position=n)


def test_several_taps_on_one_day_make_one_record() -> None:
    days = derive_card_days(
        [tap(1, 8, "in"), tap(2, 12, "out"), tap(3, 13, "in"), tap(4, 17.5, "out")], SHIFT
    )
    assert len(days) == 1
    assert days[0].work_date == date(2025, 6, 2)
    assert days[0].first_entry.hour == 8 and days[0].last_exit.hour == 17  # type: ignore[union-attr]
    assert days[0].flags == ()


def test_an_overnight_exit_after_midnight_belongs_to_the_start_date() -> None:
    days = derive_card_days([tap(1, 20, "in"), tap(2, 29, "out")], SHIFT)  # 20:00 → 05:00
    assert [d.work_date for d in days] == [date(2025, 6, 2)]
    assert days[0].last_exit == datetime(2025, 6, 3, 5, 0, tzinfo=JST)


def test_an_entry_the_next_morning_after_a_closed_day_starts_a_new_record() -> None:
    days = derive_card_days([tap(1, 8, "in"), tap(2, 17, "out"), tap(3, 32, "in")], SHIFT)
    assert [d.work_date for d in days] == [date(2025, 6, 2), date(2025, 6, 3)]
    assert days[1].flags == ("missing_exit",)


def test_an_exit_beyond_the_maximum_shift_does_not_close_the_old_record() -> None:
    days = derive_card_days([tap(1, 8, "in"), tap(2, 8 + 25, "out")], SHIFT)
    assert [d.flags for d in days] == [("missing_exit",), ("missing_entry",)]


def test_the_result_does_not_depend_on_arrival_order() -> None:
    taps = [
        tap(1, 20, "in"),
        tap(2, 23, "out"),
        tap(3, 23.5, "in"),
        tap(4, 29, "out"),
        tap(5, 32, "in"),
    ]
    expected = [(d.work_date, d.positions) for d in derive_card_days(taps, SHIFT)]
    for order in permutations(taps):
        assert [(d.work_date, d.positions) for d in derive_card_days(order, SHIFT)] == expected


def test_unknown_direction_alternates_entry_then_exit() -> None:
    days = derive_card_days([tap(1, 8, "unknown"), tap(2, 17, "unknown")], SHIFT)
    assert days[0].first_entry is not None and days[0].last_exit is not None
    assert days[0].last_exit > days[0].first_entry
