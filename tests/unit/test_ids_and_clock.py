from datetime import UTC, date, datetime, timedelta
from uuid import uuid5

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.clock import JST, approval_deadline, parse_date, parse_datetime, work_date_of
from ledger.errors import InvalidValue
from ledger.ids import (
    LEDGER_NAMESPACE,
    BusinessId,
    CardId,
    SiteId,
    TapId,
    TechnicianId,
    aggregate_id,
)


@pytest.mark.parametrize(
    ("kind", "bad"),
    [
        (TechnicianId, "1234567890123"),
        (TechnicianId, "1234567890123X"),
        (SiteId, ""),
        (BusinessId, "12a"),
        (CardId, "04a1b2"),
        (TapId, "R1-42"),
        (TapId, "R1:"),
    ],
)
def test_malformed_ids_are_refused_naming_the_field(kind: type, bad: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        kind(bad)
    assert refused.value.field == kind.field
    assert repr(bad) in str(refused.value)


def test_valid_ids_are_plain_strings() -> None:
    assert TechnicianId("12345678901234") == "12345678901234"
    assert TapId.of("GATE-1", 42) == "GATE-1:42"


@pytest.mark.parametrize(
    ("work_date", "last_day"),
    [
        (date(2025, 6, 20), date(2025, 7, 31)),  # an ordinary month
        (date(2025, 12, 31), date(2026, 1, 31)),  # across the year end
        (date(2024, 1, 31), date(2024, 2, 29)),  # into a leap February
        (date(2025, 1, 15), date(2025, 2, 28)),  # into a common February
        (date(2024, 2, 29), date(2024, 3, 31)),  # from the leap day
    ],
)
def test_deadline_is_the_end_of_the_month_after_the_work_date_in_jst(
    work_date: date, last_day: date
) -> None:
    deadline = approval_deadline(work_date)
    assert deadline == datetime.combine(last_day + timedelta(days=1), datetime.min.time(), JST)
    assert work_date_of(deadline - timedelta(microseconds=1)) == last_day


def test_work_date_is_the_jst_calendar_date() -> None:
    # 23:30 UTC on the 1st is 08:30 JST on the 2nd.
    assert work_date_of(datetime(2025, 6, 1, 23, 30, tzinfo=UTC)) == date(2025, 6, 2)


def test_impossible_dates_and_naive_times_are_refused() -> None:
    with pytest.raises(InvalidValue, match="work_date"):
        parse_date("2025-02-30", "work_date")
    with pytest.raises(InvalidValue, match="no time zone"):
        parse_datetime("2025-06-01T08:00:00", "reader_time")


@given(st.sampled_from(["tap", "card", "worker"]), st.text())
def test_an_aggregate_id_is_uuid5_of_its_kind_and_key(kind: str, key: str) -> None:
    assert aggregate_id(kind, key) == uuid5(LEDGER_NAMESPACE, f"{kind}:{key}")
    assert aggregate_id(kind, key).version == 5
