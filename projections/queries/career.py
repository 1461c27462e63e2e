"""就業日数 and 就業履歴数 — a worker's work days and record count, in total and broken down.

Work days are distinct calendar dates with at least one counted record; the record count counts
counted records. Two sites on one day: 1 work day, 2 records (DESIGN.md §2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from projections.queries._common import Source, reading, scope_filter
from projections.store import as_date
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
) -> CareerSummary:
    """Work days and record count over ``date_from`` … ``date_to`` (inclusive), from the worker's
    days by month (`projections.work_days`): a decade is about 120 months of a few rows each."""
    scope_sql, scope_params = scope_filter(only_sites_of_prime, only_employer, alias="m")
    first, last = month_of(date_from), month_of(date_to)
    # Bits of the range's days in its first and last month; whole months in between.
    from_bits, to_bits = ~(day_bit(date_from) - 1), (day_bit(date_to) << 1) - 1
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT m.month, m.trade, m.employer_business_id, m.site_id, m.day_bits "
            "FROM {work_day_months} m WHERE m.technician_id = %s AND m.month >= %s "
            f"AND m.month <= %s{scope_sql} ORDER BY m.month", [technician_id, first, last,
                                                              *scope_params])
    counts = _Counts()
    month_rows: list[tuple[str | None, str | None, str, int]] = []
    month: Any = None
    mask = -1
    for stored_month, trade, employer, site, day_bits in rows:
        if stored_month != month:
            counts.add_month(month_rows)
            month, month_rows = stored_month, []
            this_month = as_date(month)
            mask = (from_bits if this_month == first else -1) & (
                to_bits if this_month == last else -1)
        day_bits &= mask
        if day_bits:
            month_rows.append((trade or None, employer or None, site, day_bits))
    counts.add_month(month_rows)
    return CareerSummary(technician_id, date_from, date_to, counts.count(counts.total),
                         *(counts.part(index) for index in range(3)))


class _Counts:
    """Work days and records, in total and per trade, employer and site, added a month at a
    time: a month's work days are the set bits of its rows' days OR-ed (two sites on one day are
    one work day); every set bit is one record."""

    def __init__(self) -> None:
        self.total = [0, 0]  # work days, records
        self.parts: tuple[dict[Any, list[int]], ...] = ({}, {}, {})

    def add_month(self, rows: list[tuple[str | None, str | None, str, int]]) -> None:
        if len(rows) == 1:  # most months: one site, employer and trade
            *keys, day_bits = rows[0]
            days = day_bits.bit_count()
            _add(self.total, days, days)
            for part, key in zip(self.parts, keys, strict=True):
                _add(part.setdefault(key, [0, 0]), days, days)
        elif rows:
            _merge(self.total, [row[3] for row in rows])
            for index, part in enumerate(self.parts):
                by_key: dict[Any, list[int]] = {}
                for row in rows:
                    by_key.setdefault(row[index], []).append(row[3])
                for key, bits in by_key.items():
                    _merge(part.setdefault(key, [0, 0]), bits)

    @staticmethod
    def count(sums: list[int]) -> DayCount:
        return DayCount(sums[0], sums[1])

    def part(self, index: int) -> Mapping[Any, DayCount]:
        ordered = sorted(self.parts[index].items(), key=lambda item: (item[0] is None,
                                                                      item[0] or ""))
        return MappingProxyType({key: self.count(sums) for key, sums in ordered})


def _add(sums: list[int], days: int, records: int) -> None:
    sums[0] += days
    sums[1] += records


def _merge(sums: list[int], bits: list[int]) -> None:
    union = 0
    for day_bits in bits:
        union |= day_bits
    _add(sums, union.bit_count(), sum(day_bits.bit_count() for day_bits in bits))
