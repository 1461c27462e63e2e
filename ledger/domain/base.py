"""Base aggregate: event timestamps come from the ledger's clock (tests and replays control it)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from eventsourcing.domain import Aggregate

from ledger import clock
from ledger.clock import require_in_range
from ledger.domain.text import check_text
from ledger.errors import InvalidValue


class LedgerAggregate(Aggregate):
    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            return clock.now()

    class Created(Event, Aggregate.Created):
        pass


class Position(str, Enum):
    """立場 on a site's roster."""

    FOREMAN = "職長"
    TEAM_LEADER = "班長"
    GENERAL = "一般"
    SAFETY_HEALTH_MANAGER = "安全衛生責任者"
    CHIEF_ENGINEER = "主任技術者"
    SUPERVISING_ENGINEER = "監理技術者"


def require_text(value: object, field: str, max_length: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field, f"{field}.required", "must not be empty")
    if len(value) > max_length:
        raise InvalidValue(field, f"{field}.length", f"must be at most {max_length} characters")
    return check_text(value.strip(), field)


def require_date(value: object, field: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidValue(field, f"{field}.type", f"{value!r} is not a calendar date")
    return require_in_range(value, field)


def require_position(value: object, field: str = "position") -> Position:
    try:
        return Position(value)
    except ValueError:
        allowed = ", ".join(p.value for p in Position)
        raise InvalidValue(field, f"{field}.enum", f"{value!r} is not one of {allowed}") from None
