"""The worker's page counts this month's 職長 and 班長 days per trade as level judgment counts
days: counted records only, from the first of the month, a day once across sites."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from api.web.worker import roles_by_trade
from projections.records import RecordStatus


def record(day: int, trade: str, position: str, status: RecordStatus = RecordStatus.COUNTED,
           month: int = 6) -> SimpleNamespace:
    return SimpleNamespace(work_date=date(2025, month, day), trade=trade, position=position,
                           status=status)


def test_this_months_foreman_and_team_leader_days_per_trade() -> None:
    records = [
        record(2, "鉄筋", "職長"), record(2, "鉄筋", "職長"),  # two sites, one day
        record(3, "鉄筋", "職長"), record(4, "鉄筋", "班長"), record(5, "鉄筋", "一般"),
        record(6, "型枠", "班長"),
        record(7, "鉄筋", "職長", RecordStatus.PENDING),  # awaiting approval: not yet
        record(30, "鉄筋", "職長", month=5),  # last month's
    ]
    assert roles_by_trade(records, date(2025, 6, 1)) == {
        "鉄筋": {"職長": 2, "班長": 1}, "型枠": {"班長": 1}}
    assert roles_by_trade([], date(2025, 6, 1)) == {}
