"""就業日数 and 就業履歴数 against the records themselves: the summary read from the days by month
equals counting `career_records` one by one, for every scope and several date ranges, over rows
with two or three sites a day, trades and employers changing, missing trades and employers, and
records of every status."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from ledger.settings import Settings
from projections.queries import CareerSummary, DayCount, career_records, career_summary
from projections.records import WorkRecord
from projections.store import ReadStore
from projections.work_days import DayChanges

WORKER, NEIGHBOUR = "30000000000001", "30000000000002"
SITES = {"10000000000001": "100", "10000000000002": "100", "10000000000003": "300"}  # → prime
EMPLOYERS = ("200", "201", None)
TRADES = ("鉄筋", "とび", "電気工事", None)
STATUSES = ("counted", "counted", "counted", "pending", "rejected", "expired")
FIRST_DAY = date(2024, 1, 1)


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadStore]:
    store = ReadStore(settings)
    rows = list(records(random.Random(20250620)))
    try:
        with store.transaction() as tx:
            tx.executemany(
                "INSERT INTO {sites} (site_id, name, prime_business_id, kentaikyo_method, "
                "opened_on, closed_on, positions) VALUES (%s, %s, %s, %s, %s, NULL, %s)",
                [(site, "現場", prime, "electronic", FIRST_DAY, "[]")
                 for site, prime in SITES.items()])
            tx.executemany(
                "INSERT INTO {work_records} (technician_id, site_id, work_date, "
                "employer_business_id, trade, role_position, work_content, first_entry, "
                "last_exit, minutes_on_site, source, status, flags, event_positions) "
                "VALUES (%s, %s, %s, %s, %s, NULL, NULL, NULL, NULL, NULL, 'card', %s, '[]', "
                "'[]')", rows)
            days = DayChanges()  # the days by month the projection keeps with the records
            for worker, site, day, employer, trade, status in rows:
                days.added(worker, site, day, (employer, trade, status))
            days.write(tx)
        yield store
    finally:
        store.close()


def records(rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Two workers over 400 days: most days one site, some two or three, some none."""
    for worker in (WORKER, NEIGHBOUR):
        for offset in range(400):
            day = FIRST_DAY + timedelta(days=offset)
            for site in rng.sample(sorted(SITES), rng.choice((0, 1, 1, 1, 1, 2, 3))):
                yield (worker, site, day, rng.choice(EMPLOYERS), rng.choice(TRADES),
                       rng.choice(STATUSES))


def counted(found: Iterable[WorkRecord], key: Callable[[WorkRecord], Any]) -> dict[Any, DayCount]:
    days: defaultdict[Any, set[date]] = defaultdict(set)
    count: defaultdict[Any, int] = defaultdict(int)
    for record in found:
        if record.status == "counted":
            days[key(record)].add(record.work_date)
            count[key(record)] += 1
    return {k: DayCount(len(days[k]), count[k]) for k in days}


def in_order(summary: CareerSummary) -> list[list[Any]]:
    return [list(part) for part in (summary.by_trade, summary.by_employer, summary.by_site)]


SCOPES: list[dict[str, str | None]] = [
    {}, {"only_employer": "200"}, {"only_sites_of_prime": "100"},
    {"only_sites_of_prime": "300", "only_employer": "201"}, {"only_employer": "999"},
]
RANGES = [(date(2024, 1, 1), date(2025, 2, 3)), (date(2024, 3, 10), date(2024, 3, 10)),
          (date(2024, 2, 29), date(2024, 7, 1)), (date(2023, 1, 1), date(2023, 12, 31))]


@pytest.mark.parametrize("scope", SCOPES, ids=lambda s: ",".join(map(str, s.values())) or "all")
def test_the_summary_counts_what_the_records_list(
    store: ReadStore, scope: dict[str, str | None]
) -> None:
    for date_from, date_to in RANGES:
        with store.read() as tx:
            summary = career_summary(tx, WORKER, date_from, date_to, **scope)
            found = career_records(tx, WORKER, date_from, date_to, **scope)
        total = counted(found, lambda r: "total").get("total", DayCount(0, 0))
        assert summary.total == total
        assert dict(summary.by_trade) == counted(found, lambda r: r.trade)
        assert dict(summary.by_employer) == counted(found, lambda r: r.employer_business_id)
        assert dict(summary.by_site) == counted(found, lambda r: r.site_id)
        for keys in in_order(summary):  # named ones in order, the unnamed (None) last
            named = [k for k in keys if k is not None]
            assert keys == [*sorted(named), *([None] if None in keys else [])]
        assert (summary.technician_id, summary.date_from, summary.date_to) == (
            WORKER, date_from, date_to)


def test_the_world_has_days_with_several_sites_and_every_kind_of_record(store: ReadStore) -> None:
    """The rows above exercise what the summary must get right."""
    with store.read() as tx:
        found = career_records(tx, WORKER, date(2024, 1, 1), date(2025, 2, 3))
    per_day: defaultdict[date, int] = defaultdict(int)
    for record in found:
        per_day[record.work_date] += record.status == "counted"
    assert max(per_day.values()) >= 3
    assert {r.trade for r in found} == set(TRADES)
    assert {r.employer_business_id for r in found} == set(EMPLOYERS)
    assert {r.status.value for r in found} == set(STATUSES)
    summary = career_summary(store, WORKER, date(2024, 1, 1), date(2025, 2, 3))
    assert summary.total.work_days < summary.total.record_count
    assert sum(c.work_days for c in summary.by_trade.values()) > summary.total.work_days
