"""就労実績報告: the Kentaikyo settlement of a month, issued once; late changes to a month already
issued become adjustments in a later one."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import event

from ledger.actors import Actor
from ledger.clock import end_of_month
from ledger.domain.base import LedgerAggregate
from ledger.domain.settlement.rules import (
    LineSet,
    check_job_actor,
    check_month_over,
    check_sha256,
    line_set_of,
    month_of,
    months_between,
    parse_month,
)
from ledger.errors import InvalidValue
from ledger.ids import aggregate_id

# -- 就労実績報告: Kentaikyo settlement ----------------------------------------------------------
DayKey = tuple[str, str | None, str, str]  # technician, employer, site, work date (ISO)
DayValue = tuple[int, str]  # points (yen), outcome: eligible | <reason> | covered:<site>


@dataclass(frozen=True)
class Adjustment:
    """A worker-day line of an earlier month whose points or outcome changed after it was issued.
    ``None`` before: a new line (late approval); ``None`` after: the line is gone."""

    month: str
    key: DayKey
    before: DayValue | None
    after: DayValue | None

    @property
    def points_delta(self) -> int:
        return (self.after[0] if self.after else 0) - (self.before[0] if self.before else 0)

    def as_row(self) -> list[Any]:
        before, after = self.before or (0, None), self.after or (0, None)
        return [self.month, *self.key, before[0], after[0], before[1], after[1]]

    @classmethod
    def from_row(cls, row: list[Any]) -> Adjustment:
        month, technician, employer, site, work_date, p0, p1, o0, o1 = row
        return cls(month, (technician, employer, site, work_date),
                   None if o0 is None else (p0, o0), None if o1 is None else (p1, o1))


def diff_days(
    month: str, issued: Mapping[DayKey, DayValue], current: Mapping[DayKey, DayValue]
) -> list[Adjustment]:
    """Every line of `month` that differs between what was issued and what is true now."""
    changed = [
        Adjustment(month, key, issued.get(key), current.get(key))
        for key in set(issued) | set(current)
        if issued.get(key) != current.get(key)
    ]
    return sorted(changed, key=lambda a: (a.key[0], a.key[1] or "", a.key[2], a.key[3]))


def line_order(key: DayKey) -> tuple[str, str, str, str]:
    """The order lines are produced, stored and compared in."""
    return (key[0], key[1] or "", key[2], key[3])


def diff_streams(
    month: str, issued: Iterable[tuple[DayKey, DayValue]],
    current: Iterable[tuple[DayKey, DayValue]],
) -> Iterator[Adjustment]:
    """``diff_days`` over two streams in `line_order`, holding one line of each at a time: a
    month of hundreds of thousands of lines is compared without being held."""
    done = object()
    left, right = iter(issued), iter(current)
    a: Any = next(left, done)
    b: Any = next(right, done)
    while a is not done or b is not done:
        if b is done or (a is not done and line_order(a[0]) < line_order(b[0])):
            yield Adjustment(month, a[0], a[1], None)
            a = next(left, done)
        elif a is done or line_order(b[0]) < line_order(a[0]):
            yield Adjustment(month, b[0], None, b[1])
            b = next(right, done)
        else:
            if a[1] != b[1]:
                yield Adjustment(month, a[0], a[1], b[1])
            a, b = next(left, done), next(right, done)


def settlement_id(month: str) -> UUID:
    return aggregate_id("kentaikyo-settlement", month)



class SettlementTally:
    """The rules a settlement's lines follow, applied line by line as they are produced (a month
    of a large employer is hundreds of thousands of lines, never held at once), with the totals
    its event carries."""

    def __init__(self, month: str) -> None:
        parse_month(month)
        self.month = month
        self.points_yen = 0
        self.adjustment_yen = 0
        self.day_lines = 0
        self.adjustment_lines = 0

    def day(self, line: list[Any]) -> list[Any]:
        technician, _, site, work_date, points, outcome = line
        if not isinstance(points, int) or points < 0 or not outcome:
            raise InvalidValue("days", "days.line", f"{line!r} is not a worker-day line")
        if month_of(date.fromisoformat(work_date)) != self.month:
            raise InvalidValue("days", "days.month", f"{work_date} is not in {self.month}")
        del technician, site
        self.points_yen += points
        self.day_lines += 1
        return line

    def adjustment(self, adjustment: Adjustment) -> list[Any]:
        if months_between(adjustment.month, self.month) <= 0:
            raise InvalidValue("adjustments", "adjustments.earlier_month",
                               f"{adjustment.month} is not before {self.month}")
        self.adjustment_yen += adjustment.points_delta
        self.adjustment_lines += 1
        return adjustment.as_row()


class KentaikyoSettlement(LedgerAggregate):
    """建退共 work report for one month, issued once: every worker-day line with its points or the
    reason it earns none, adjustments to earlier months, and the SHA-256 of each file issued.

    The lines live beside the log (``ledger.storage.lines``), the event names them by SHA-256:
    days as ``[technician, employer, site, work_date, points, outcome]``, adjustments as
    ``Adjustment.as_row`` and the parties (for the files) as ``[kind, key, value]``. ``files``
    is each file's SHA-256 of its content (``projections.jobs.files``), not of the bytes a
    renderer happened to produce, so a file written again by a newer library still matches.
    """

    @staticmethod
    def create_id(month: str, **_: Any) -> UUID:
        return settlement_id(month)

    @classmethod
    def issue(
        cls,
        tally: SettlementTally,
        days: LineSet,
        adjustments: LineSet,
        parties: LineSet,
        files: dict[str, str],
        as_of_position: int,
        actor: Actor,
        now: datetime,
    ) -> KentaikyoSettlement:
        check_job_actor(actor)
        month = tally.month
        first = parse_month(month)
        check_month_over(month, now)
        check_sha256(files)
        if (days.count, adjustments.count) != (tally.day_lines, tally.adjustment_lines):
            raise InvalidValue("days", "days.count", "the lines stored are not the lines tallied")
        return cast(KentaikyoSettlement, cls(
            month=month, period_start=first, period_end=end_of_month(first),
            days=days.as_dict(), adjustments=adjustments.as_dict(), parties=parties.as_dict(),
            files=files, points_yen=tally.points_yen, adjustment_yen=tally.adjustment_yen,
            as_of_position=as_of_position, actor=actor, issued_at=now,
        ))

    class Issued(LedgerAggregate.Created):
        """Version 2 names its lines by SHA-256 (``LineSet``); version 1 carried them: ``days``
        and ``adjustments`` as lists of lines, ``parties`` as a dict of dicts. The upcast names
        the embedded lines as they would be stored, and ``Ledger.lines_of`` stores them from the
        version-1 event the first time they are read, so no migration rewrites anything.

        ``files`` is not recomputed: a version-1 file's SHA-256 is of its bytes, which for a CSV
        is also its content's; the workbook's matches when its bytes do (``place_files``)."""

        class_version = 2
        month: str
        period_start: date
        period_end: date
        days: dict[str, Any]
        adjustments: dict[str, Any]
        parties: dict[str, Any]
        files: dict[str, str]
        points_yen: int
        adjustment_yen: int
        as_of_position: int
        actor: Actor
        issued_at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            for name, lines in settlement_embedded_lines(state).items():
                state[name] = line_set_of(lines).as_dict()

        @staticmethod
        def embedded_lines(state: dict[str, Any]) -> list[list[list[Any]]]:
            """The line sets a stored version-1 state carried, to store beside the log."""
            return list(settlement_embedded_lines(state).values())

    @event(Issued)
    def __init__(
        self,
        month: str,
        period_start: date,
        period_end: date,
        days: dict[str, Any],  # LineSet of the worker-day lines
        adjustments: dict[str, Any],  # LineSet of adjustments to earlier months
        parties: dict[str, Any],  # LineSet: sites → prime, members, contracts (for the files)
        files: dict[str, str],  # file name → SHA-256 of its content (hex)
        points_yen: int,
        adjustment_yen: int,
        as_of_position: int,
        actor: Actor,
        issued_at: datetime,
    ) -> None:
        self.month = month
        self.day_lines = LineSet.from_dict(days)
        self.adjustment_lines = LineSet.from_dict(adjustments)
        self.party_lines = LineSet.from_dict(parties)
        self.files = files
        self.points_yen = points_yen
        self.adjustment_yen = adjustment_yen
        self.issued_at = issued_at


def settlement_embedded_lines(state: Mapping[str, Any]) -> dict[str, list[list[Any]]]:
    """The lines a version-1 ``Issued`` state carried, in the order version 2 stores them: the
    days in `line_order` (the old job ordered technicians in SQL, whose collation may differ),
    the adjustments as issued, the parties as ``parties_as_lines``. Empty for a state in the
    new shape (written before the event had a version number)."""
    if isinstance(state["days"], Mapping):
        return {}
    return {
        "days": sorted((list(line) for line in state["days"]),
                       key=lambda line: line_order(day_key(line))),
        "adjustments": [list(line) for line in state["adjustments"]],
        "parties": list(parties_as_lines(state["parties"])),
    }


def day_key(line: list[Any]) -> DayKey:
    return (line[0], line[1], line[2], line[3])


def issued_state(
    month: str, days: Iterable[list[Any]],
    later: Iterable[tuple[str, Iterable[list[Any]]]],
) -> dict[DayKey, DayValue]:
    """What has been issued for `month` so far: its lines, then each later settlement's
    adjustments to that month (`later`: settlement month and its adjustment lines), in the
    order they were issued."""
    state = {day_key(r): (int(r[4]), str(r[5])) for r in days}
    for _, adjustments in sorted(later, key=lambda settled: settled[0]):
        for adjustment in map(Adjustment.from_row, adjustments):
            if adjustment.month != month:
                continue
            if adjustment.after is None:
                state.pop(adjustment.key, None)
            else:
                state[adjustment.key] = adjustment.after
    return state


def issued_stream(
    month: str, days: Iterable[list[Any]],
    later: Iterable[tuple[str, Iterable[list[Any]]]],
) -> Iterator[tuple[DayKey, DayValue]]:
    """``issued_state`` as a stream in `line_order`, from `days` in that order (as stored):
    only the later adjustments to `month` are held, not the month's lines."""
    changes: dict[DayKey, DayValue | None] = {}
    for _, adjustments in sorted(later, key=lambda settled: settled[0]):
        for adjustment in map(Adjustment.from_row, adjustments):
            if adjustment.month == month:
                changes[adjustment.key] = adjustment.after
    added = sorted((key for key in changes), key=line_order)
    issued = ((day_key(r), (int(r[4]), str(r[5]))) for r in days)
    merged = heapq.merge(issued, ((key, None) for key in added),
                         key=lambda item: line_order(item[0]))
    previous: DayKey | None = None
    for key, value in merged:
        if key == previous:
            continue  # the issued line and its change: the change was taken already
        previous = key
        after = changes.get(key, value)
        if after is not None:
            yield key, after


def parties_as_lines(parties: Mapping[str, Mapping[str, str]]) -> Iterator[list[str]]:
    for kind in ("sites", "members", "contracts"):
        for key, value in sorted(parties.get(kind, {}).items()):
            yield [kind, key, value]


def parties_from_lines(lines: Iterable[list[Any]]) -> dict[str, dict[str, str]]:
    parties: dict[str, dict[str, str]] = {"sites": {}, "members": {}, "contracts": {}}
    for kind, key, value in lines:
        parties[kind][key] = value
    return parties
