"""就業日数 and 就業履歴数 — a worker's work days and record count, in total and broken down.

Work days are distinct calendar dates with at least one counted record; the record count counts
counted records. Two sites on one day: 1 work day, 2 records (DESIGN.md §2).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from projections.queries._common import Source, reading, scope_filter
from projections.store import as_date


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
    """Work days and record count over ``date_from`` … ``date_to`` (inclusive)."""
    scope_sql, scope_params = scope_filter(only_sites_of_prime, only_employer)
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT w.work_date, w.trade, w.employer_business_id, w.site_id "
            "FROM {work_records} w WHERE w.technician_id = %s AND w.status = 'counted' "
            f"AND w.work_date >= %s AND w.work_date <= %s{scope_sql}",
            [technician_id, date_from, date_to, *scope_params])
    days = [(as_date(row[0]), *row[1:]) for row in rows]
    return CareerSummary(
        technician_id, date_from, date_to, _count(day for day, *_ in days),
        _breakdown((trade, day) for day, trade, _, _ in days),
        _breakdown((employer, day) for day, _, employer, _ in days),
        _breakdown((site, day) for day, _, _, site in days),
    )


def _count(dates: Iterable[date | None]) -> DayCount:
    listed = list(dates)
    return DayCount(len(set(listed)), len(listed))


def _breakdown(pairs: Iterable[tuple[Any, date | None]]) -> Mapping[Any, DayCount]:
    grouped: defaultdict[Any, list[date | None]] = defaultdict(list)
    for key, day in pairs:
        grouped[key].append(day)
    ordered = sorted(grouped.items(), key=lambda item: (item[0] is None, item[0] or ""))
    return MappingProxyType({key: _count(dates) for key, dates in ordered})
