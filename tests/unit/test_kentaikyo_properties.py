"""Properties of the 建退共 month report, whatever the records and their order: a month's points are
the daily rates of the carried eligible worker-days, and no worker-day is ever paid twice."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from random import Random

from hypothesis import given
from hypothesis import strategies as st

from ledger.clock import JST
from ledger.domain.site import KentaikyoMethod
from projections.kentaikyo import (
    MonthReport,
    SiteInfo,
    daily_rate,
    month_bounds,
    month_report,
)
from projections.records import RecordSource, RecordStatus, WorkRecord

PRIME, SUB, OTHER_PRIME = "100", "200", "900"
ELECTRONIC_A, ELECTRONIC_B, STAMP, OTHER = (
    "20000000000001", "20000000000002", "20000000000003", "20000000000004")
SITES = {
    ELECTRONIC_A: SiteInfo.from_parents(ELECTRONIC_A, PRIME, KentaikyoMethod.ELECTRONIC,
                                        {SUB: PRIME}),
    ELECTRONIC_B: SiteInfo.from_parents(ELECTRONIC_B, PRIME, KentaikyoMethod.ELECTRONIC,
                                        {SUB: PRIME}),
    STAMP: SiteInfo.from_parents(STAMP, PRIME, KentaikyoMethod.STAMP, {SUB: PRIME}),
    OTHER: SiteInfo.from_parents(OTHER, OTHER_PRIME, KentaikyoMethod.ELECTRONIC, {}),
}
TECHNICIANS = ["10000000000001", "10000000000002", "10000000000003"]
FIRST_DAY = date(2021, 9, 26)  # around the rate change, so both rates occur in one run
days = st.integers(0, 10).map(lambda n: FIRST_DAY + timedelta(days=n))
enrollment = st.none() | days
# Few distinct entry times, so equal entries (ties) and missing ones are common.
entries = st.none() | st.sampled_from([time(7, 0), time(8, 0), time(13, 0)])


@st.composite
def work_records(draw: st.DrawFn) -> list[WorkRecord]:
    keys = draw(st.lists(
        st.tuples(st.sampled_from(TECHNICIANS), st.sampled_from(sorted(SITES)), days),
        unique=True, max_size=25,
    ))
    records = []
    for position, (technician, site, work_date) in enumerate(keys):
        entry = draw(entries)
        records.append(WorkRecord(
            technician_id=technician, site_id=site, work_date=work_date,
            employer_business_id=draw(st.sampled_from([PRIME, SUB, OTHER_PRIME, None])),
            trade=None, position=None, work_content=None,
            first_entry=None if entry is None else datetime.combine(work_date, entry, JST),
            last_exit=None, source=RecordSource.CARD,
            status=draw(st.sampled_from(RecordStatus)),
            event_positions=(position,),
        ))
    return records


def expected_paid_days(
    records: list[WorkRecord], workers: dict[str, date | None],
    employers: dict[str, date | None], month: str,
) -> set[tuple[str, date]]:
    """The rule restated the slow way: sort each worker-day's counted records, take the first."""
    first, last = month_bounds(month)
    paid = set()
    for technician, work_date in {(r.technician_id, r.work_date) for r in records}:
        if not first <= work_date <= last:
            continue
        counted = [r for r in records if r.counted
                   and (r.technician_id, r.work_date) == (technician, work_date)]
        if not counted:
            continue
        carrier = sorted(counted, key=lambda r: (
            r.first_entry is None, r.first_entry or datetime.min.replace(tzinfo=JST), r.site_id,
        ))[0]
        site = SITES[carrier.site_id]
        employer = carrier.employer_business_id
        worker_since = workers.get(technician)
        employer_since = None if employer is None else employers.get(employer)
        if (worker_since is not None and worker_since <= work_date
                and site.method is KentaikyoMethod.ELECTRONIC
                and employer is not None and employer in site.upper_chain
                and employer_since is not None and employer_since <= work_date):
            paid.add((technician, work_date))
    return paid


def paid_days(report: MonthReport) -> list[tuple[str, date]]:
    return [(line.technician_id, day) for line in report.lines for day in line.eligible_dates]


@given(
    work_records(),
    st.fixed_dictionaries({t: enrollment for t in TECHNICIANS}),
    st.fixed_dictionaries({b: enrollment for b in (PRIME, SUB, OTHER_PRIME)}),
    st.sampled_from(["2021-09", "2021-10"]),
    st.randoms(use_true_random=False),
)
def test_points_are_the_daily_rates_of_carried_eligible_days_paid_once_in_any_order(
    records: list[WorkRecord], workers: dict[str, date | None],
    employers: dict[str, date | None], month: str, shuffler: Random,
) -> None:
    report = month_report(records, workers, employers, SITES, month)

    paid = paid_days(report)
    assert not [day for day, n in Counter(paid).items() if n > 1], "a worker-day paid twice"
    assert set(paid) == expected_paid_days(records, workers, employers, month)
    assert report.points_yen == sum(daily_rate(work_date) for _, work_date in paid)
    assert sum(t.points_yen for t in report.employer_totals.values()) == report.points_yen
    assert sum(t.total.points_yen for t in report.prime_totals.values()) == report.points_yen

    # Every counted record of the month appears exactly once, as exactly one outcome.
    first, last = month_bounds(month)
    positions = sorted(p for line in report.lines for p in line.event_positions)
    assert positions == sorted(
        p for r in records if r.counted and first <= r.work_date <= last
        for p in r.event_positions)

    shuffled = list(records)
    shuffler.shuffle(shuffled)
    assert month_report(shuffled, workers, employers, SITES, month) == report
