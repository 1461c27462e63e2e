"""就業日数 and 就業履歴数 — a worker's work days and record count, in total and broken down.

Work days are distinct calendar dates with at least one counted record; the record count counts
counted records. Two sites on one day: 1 work day, 2 records (DESIGN.md §2).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from projections.queries._common import Source, reading, scope_filter
from projections.work_days import day_bit, month_of


@dataclass(frozen=True)
class DayCount:
    work_days: int  # 就業日数
    record_count: int  # 就業履歴数


@dataclass(frozen=True)
class CareerSummary:
    """Counted records only. `by_trade` and `by_employer` may hold a ``None`` key: records the
    roster gave no trade, or no employer, to. A day in two trades counts once in `total` and once
    in each trade, so the breakdowns' work days may add up to more than the total."""

    technician_id: str
    date_from: date
    date_to: date
    total: DayCount
    by_trade: Mapping[str | None, DayCount]
    by_employer: Mapping[str | None, DayCount]
    by_site: Mapping[str, DayCount]


def career_summary(
    source: Source,
    technician_id: str,
    date_from: date,
    date_to: date,
    only_sites_of_prime: str | None = None,
    only_employer: str | None = None,
    only_sites: Collection[str] | None = None,
) -> CareerSummary:
    """Work days and record count over ``date_from`` … ``date_to`` (inclusive), from the worker's
    days by month (`projections.work_days`): a decade is about 120 months of a few rows each."""
    scope_sql, scope_params = scope_filter(only_sites_of_prime, only_employer, alias="m",
                                           only_sites=only_sites)
    first, last = month_of(date_from), month_of(date_to)
    # The range's first and last months count only their days inside it (their bits masked in
    # the query); the months in between count whole.
    from_bits, to_bits = ~(day_bit(date_from) - 1), (day_bit(date_to) << 1) - 1
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT m.month, m.trade, m.employer_business_id, m.site_id, m.day_bits "
            "& CASE WHEN m.month = %s THEN %s ELSE -1 END "
            "& CASE WHEN m.month = %s THEN %s ELSE -1 END "
            "FROM {work_day_months} m WHERE m.technician_id = %s AND m.month >= %s "
            f"AND m.month <= %s{scope_sql} ORDER BY m.month",
            [first, from_bits, last, to_bits, technician_id, first, last, *scope_params])
    counts = _Counts()
    start = 0
    for end in range(1, len(rows) + 1):
        if end == len(rows) or rows[end][0] != rows[start][0]:
            counts.add_month(rows[start:end])
            start = end
    return CareerSummary(technician_id, date_from, date_to, _count(counts.total),
                         *(_part(part) for part in counts.parts))


Row = tuple[Any, str, str, str, int]  # month, trade, employer ('' for none), site, day bits
Sums = list[int]  # work days, records


class _Counts:
    """Work days and records, in total and per trade, employer and site, added a month at a
    time: a month's work days are the set bits of its rows' days OR-ed (two sites on one day are
    one work day); every set bit is one record. Written for speed: a decade's summary is
    asked for on every career page."""

    def __init__(self) -> None:
        self.total: Sums = [0, 0]
        self.parts: tuple[dict[Any, Sums], ...] = ({}, {}, {})  # by trade, employer, site

    def add_month(self, rows: list[Row]) -> None:
        by_trade, by_employer, by_site = self.parts
        if len(rows) == 1:  # most months: one site, employer and trade
            _, trade, employer, site, day_bits = rows[0]
            days = day_bits.bit_count()
            if days:
                for sums in (self.total, _sums(by_trade, trade or None),
                             _sums(by_employer, employer or None), _sums(by_site, site)):
                    sums[0] += days
                    sums[1] += days
            return
        _merge(self.total, [row[4] for row in rows])
        for part, index in ((by_trade, 1), (by_employer, 2), (by_site, 3)):
            bits_by_key: dict[Any, list[int]] = {}
            for row in rows:
                bits_by_key.setdefault(row[index] or None, []).append(row[4])
            for key, bits in bits_by_key.items():
                _merge(_sums(part, key), bits)


def _sums(part: dict[Any, Sums], key: Any) -> Sums:
    sums = part.get(key)
    if sums is None:
        sums = part[key] = [0, 0]
    return sums


def _merge(sums: Sums, bits: list[int]) -> None:
    """One month's rows of a key: the days they share count once, every record once."""
    union = 0
    for day_bits in bits:
        union |= day_bits
    if union:
        sums[0] += union.bit_count()
        sums[1] += sum(day_bits.bit_count() for day_bits in bits)


def _count(sums: Sums) -> DayCount:
    return DayCount(sums[0], sums[1])


def _part(part: dict[Any, Sums]) -> Mapping[Any, DayCount]:
    """Named keys in order, the unnamed (None) last; a key whose rows all fell outside the range
    is left out."""
    ordered = sorted(((key, sums) for key, sums in part.items() if sums[1]),
                     key=lambda item: (item[0] is None, item[0] or ""))
    return MappingProxyType({key: _count(sums) for key, sums in ordered})
