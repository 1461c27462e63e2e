"""The one rule of a read's date range (`check_range`): in order, and no longer than the list's
maximum, else a 422 naming `date_to`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.query_params import FIRST_DAY, LAST_DAY, SITE_RANGE_DAYS, WORKER_RANGE_DAYS, check_range
from ledger.errors import InvalidValue

FIRST = date(2024, 1, 1)


def test_a_range_of_the_maximum_length_is_taken_counting_both_ends() -> None:
    check_range(FIRST, FIRST, SITE_RANGE_DAYS)  # one day
    check_range(FIRST, FIRST + timedelta(days=SITE_RANGE_DAYS - 1), SITE_RANGE_DAYS)  # 2024
    check_range(FIRST_DAY, LAST_DAY)  # one worker's: every day the ledger holds


@pytest.mark.parametrize(("date_to", "longest", "rule"), [
    (FIRST - timedelta(days=1), SITE_RANGE_DAYS, "date_range.order"),
    (FIRST + timedelta(days=SITE_RANGE_DAYS), SITE_RANGE_DAYS, "date_range.length"),
    (FIRST + timedelta(days=30), 30, "date_range.length"),
])
def test_a_range_out_of_order_or_too_long_is_refused_naming_date_to(
    date_to: date, longest: int, rule: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_range(FIRST, date_to, longest)
    assert (refused.value.field, refused.value.rule) == ("date_to", rule)
    if rule == "date_range.length":
        assert f"at most {longest} days" in refused.value.message


def test_the_site_maximum_is_a_year_and_the_worker_maximum_every_day_the_ledger_holds() -> None:
    assert SITE_RANGE_DAYS == 366
    assert (LAST_DAY - FIRST_DAY).days + 1 == WORKER_RANGE_DAYS
