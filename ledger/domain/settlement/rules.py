"""The rules every nightly job shares: month arithmetic, who runs jobs and when a day or month
is over, and lines kept beside the log (named by SHA-256) instead of inside an event."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson

from ledger.actors import Actor, Role
from ledger.clock import JST, end_of_month, require_aware
from ledger.errors import InvalidState, InvalidValue, NotPermitted

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_SHA256 = re.compile(r"[0-9a-f]{64}")


# Requests for a work date may be approved until the end of the following month, so a month can
# still change after it was settled (the settlement runs early in the following month) but not
# after the month after that. Settlements and bills therefore look back this many months for
# late changes; one would do, two leaves room for a run that was itself late.
LOOKBACK_MONTHS = 2


# -- months --------------------------------------------------------------------------------------
def parse_month(text: object, field: str = "month") -> date:
    """'YYYY-MM' → its first day."""
    match = _MONTH.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidValue(field, f"{field}.format", f"{text!r} is not a month (YYYY-MM)")
    return date(int(match[1]), int(match[2]), 1)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def add_months(month: str, count: int) -> str:
    first = parse_month(month)
    index = first.year * 12 + first.month - 1 + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(earlier: str, later: str) -> int:
    """How many months `later` is after `earlier` (0 for the same month)."""
    a, b = parse_month(earlier), parse_month(later)
    return (b.year - a.year) * 12 + b.month - a.month


def start_of_day(day: date) -> datetime:
    """The first instant of a JST calendar day."""
    return datetime.combine(day, time(0), JST)


# -- rules shared by every job -------------------------------------------------------------------
def check_job_actor(actor: Actor) -> None:
    if actor.role not in (Role.SYSTEM, Role.ADMIN):
        raise NotPermitted("actor", "job.actor", "only the system or an administrator runs jobs")


def check_day_over(day: date, now: datetime, field: str = "work_date") -> None:
    """A day is closed or sealed only once it has ended in Japan, or its list would be partial."""
    if require_aware(now, "now") < start_of_day(day + timedelta(days=1)):
        raise InvalidState(field, f"{field}.not_over", f"{day} has not ended yet (JST)")


def check_month_over(month: str, now: datetime) -> None:
    first = parse_month(month)
    if require_aware(now, "now") < start_of_day(end_of_month(first) + timedelta(days=1)):
        raise InvalidState("month", "month.not_over", f"{month} has not ended yet (JST)")


def check_sha256(files: Mapping[str, str]) -> None:
    for name, digest in files.items():
        if not _SHA256.fullmatch(digest):
            raise InvalidValue("files", "files.sha256", f"{name}: {digest!r} is not a SHA-256")


@dataclass(frozen=True)
class LineSet:
    """A set of lines kept beside the log (``ledger.storage.lines``), named by the SHA-256 of its
    canonical encoding: what an event carries instead of the lines themselves."""

    sha256: str
    count: int

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.sha256) or self.count < 0:
            raise InvalidValue("lines", "lines.sha256", f"{self!r} does not name a set of lines")

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "count": self.count}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> LineSet:
        return cls(str(value["sha256"]), int(value["count"]))


def encode_line(line: Iterable[Any]) -> bytes:
    """A line's canonical bytes: compact JSON (orjson: one encoding per value) and a newline."""
    return orjson.dumps(list(line)) + b"\n"


def line_set_of(lines: Iterable[Iterable[Any]]) -> LineSet:
    """The name and size a set of lines has, wherever it is kept."""
    hasher, count = hashlib.sha256(), 0
    for line in lines:
        hasher.update(encode_line(line))
        count += 1
    return LineSet(hasher.hexdigest(), count)


# A settlement or seal event keeps its lists in the lines, so its size does not depend on the
# month's or the day's: about 1 KB for a settlement (totals, three line sets, four file hashes),
# a few hundred bytes for a seal. Saving one larger than this is refused.
MAX_EVENT_BYTES = 64 * 1024
