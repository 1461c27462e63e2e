"""就業日数 and 就業履歴数 — a worker's work days and record count, in total and broken down.

Work days are distinct calendar dates with at least one counted record; the record count counts
counted records. Two sites on one day: 1 work day, 2 records (DESIGN.md §2).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from projections.queries._common import Source, reading, scope_filter


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


# One row per (trade, employer, site) with the dates of its records as text, joined by commas:
# the database groups the rows (a hash aggregate; a decade is 2,150 rows, a handful of groups),
# and the distinct dates across groups are counted here from those strings. A worker has one
# record per site and date (the primary key), so within a group every date is distinct.
DATES = {True: "group_concat(w.work_date, ',')",  # SQLite keeps dates as ISO text
         False: "string_agg(w.work_date::text, ',')"}


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
        groups = [
            (trade, employer, site, dates.split(","))
            for trade, employer, site, dates in tx.execute(
                f"SELECT w.trade, w.employer_business_id, w.site_id, {DATES[tx.sqlite]} "
                "FROM {work_records} w WHERE w.technician_id = %s AND w.status = 'counted' "
                f"AND w.work_date >= %s AND w.work_date <= %s{scope_sql} "
                "GROUP BY w.trade, w.employer_business_id, w.site_id",
                [technician_id, date_from, date_to, *scope_params])]
    return CareerSummary(
        technician_id, date_from, date_to, _count([dates for *_, dates in groups]),
        _breakdown((trade, dates) for trade, _, _, dates in groups),
        _breakdown((employer, dates) for _, employer, _, dates in groups),
        _breakdown((site, dates) for _, _, site, dates in groups),
    )


def _count(groups: Sequence[list[str]]) -> DayCount:
    """Work days and records of groups of records, each group given as its records' dates."""
    if len(groups) == 1:  # distinct dates already
        return DayCount(len(groups[0]), len(groups[0]))
    return DayCount(len(set().union(*groups)), sum(map(len, groups)))


def _breakdown(pairs: Iterable[tuple[Any, list[str]]]) -> Mapping[Any, DayCount]:
    grouped: defaultdict[Any, list[list[str]]] = defaultdict(list)
    for key, dates in pairs:
        grouped[key].append(dates)
    ordered = sorted(grouped.items(), key=lambda item: (item[0] is None, item[0] or ""))
    return MappingProxyType({key: _count(groups) for key, groups in ordered})
