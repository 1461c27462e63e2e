"""From taps to work records: a pure function of one worker's taps at one site.

Taps are sorted by the reader's clock, so the result does not depend on the order they arrived in
(a reader that was offline uploads hours later). Rules (DESIGN.md §2):
- several taps at one site on one day make one record;
- an overnight shift belongs to the date it started: a tap within ``max_shift`` of the record's
  first tap that closes it (out, or unknown while the record is open) stays with that record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from ledger.clock import jst_date

IN, OUT, UNKNOWN = "in", "out", "unknown"


class _TapFields(NamedTuple):
    tap_id: str
    reader_time: datetime
    direction: str
    position: int  # log position of the Tap.Recorded event
    flags: tuple[str, ...]
    jst_day: date  # the date of the reader's clock in Japan, asked for again and again
    # The log position of the site staff's decision that gave an unknown card's tap to this worker
    # (`projections.resolutions`); None for a tap of the worker's own card.
    assigned_position: int | None


class TapFact(_TapFields):
    """A tap as the work records see it. A tuple of plain values: the projection keeps tens of
    thousands between batches, and the garbage collector does not have to walk tuples like these."""

    __slots__ = ()

    def __new__(
        cls,
        tap_id: str,
        reader_time: datetime,
        direction: str,
        position: int,
        flags: tuple[str, ...] = (),
        assigned_position: int | None = None,
    ) -> TapFact:
        return super().__new__(
            cls,
            tap_id,
            reader_time,
            direction,
            position,
            flags,
            jst_date(reader_time),
            assigned_position,
        )


@dataclass
class CardDay:
    """The taps of one record, and what they say about entry and exit."""

    work_date: date
    taps: list[TapFact] = field(default_factory=list)

    @property
    def first_tap(self) -> TapFact:
        return self.taps[0]

    @property
    def first_entry(self) -> datetime | None:
        entries = [t.reader_time for t in self.taps if t.direction == IN]
        if entries:
            return entries[0]
        unknown = [t.reader_time for t in self.taps if t.direction == UNKNOWN]
        return unknown[0] if unknown else None

    @property
    def last_exit(self) -> datetime | None:
        exits = [t.reader_time for t in self.taps if t.direction == OUT]
        if exits:
            return exits[-1]
        unknown = [t.reader_time for t in self.taps if t.direction == UNKNOWN]
        return unknown[-1] if len(unknown) > 1 else None

    @property
    def is_open(self) -> bool:
        """Entered and not left since (the last tap is an entry)."""
        return self.taps[-1].direction == IN or (
            self.taps[-1].direction == UNKNOWN and len(self.taps) % 2 == 1
        )

    @property
    def flags(self) -> tuple[str, ...]:
        found = {flag for tap in self.taps for flag in tap.flags}
        if self.first_entry is None:
            found.add("missing_entry")
        if self.last_exit is None:
            found.add("missing_exit")
        return tuple(sorted(found))

    @property
    def positions(self) -> tuple[int, ...]:
        """The log positions of the events behind the day: its taps, and the staff decisions that
        gave any of them to the worker (an auditor asks why an unknown card's tap counts)."""
        taps = {t.position for t in self.taps}
        decisions = {t.assigned_position for t in self.taps if t.assigned_position is not None}
        return tuple(sorted(taps | decisions))


def derive_card_days(taps: Iterable[TapFact], max_shift: timedelta) -> list[CardDay]:
    days: list[CardDay] = []
    for tap in sorted(taps, key=lambda t: (t.reader_time, t.position)):
        current = days[-1] if days else None
        if current is not None and _belongs_to(tap, current, max_shift):
            current.taps.append(tap)
        else:
            days.append(CardDay(tap.jst_day, [tap]))
    return days


def _belongs_to(tap: TapFact, day: CardDay, max_shift: timedelta) -> bool:
    if tap.reader_time - day.first_tap.reader_time > max_shift:
        return False
    if tap.jst_day == day.work_date:
        return True
    # After midnight: only the end of the shift that is still open stays with its start date.
    return day.is_open and tap.direction in (OUT, UNKNOWN)
