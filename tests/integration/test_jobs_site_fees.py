"""現場利用料 on SQLite and PostgreSQL: 10 yen per work record billed to the prime, bills under
10,000 yen carried over for at most six months of usage, late records billed the next month."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from ledger.actors import SYSTEM, Actor, Role
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.taps import Direction, TapObservation
from ledger.ids import ReaderId, TapId, TechnicianId
from ledger.settings import Settings
from projections.jobs.queries import site_fee_bills
from projections.jobs.site_fees import bill_site_fees
from tests.integration.jobs_world import (
    OTHER,
    PRIME,
    SITE,
    SITE_B,
    STAMP_SITE,
    SUB2,
    T1,
    T2,
    World,
    jst,
)


@pytest.fixture
def world(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    with World.built(ledger, settings, now, at=jst(2025, 1, 1, 9),
                     opened_on=date(2025, 1, 1)) as built:
        yield built


def bill(world: World, month: str) -> dict[str, Any]:
    year, number = map(int, month.split("-"))
    first_of_next = date(year, number, 28) + timedelta(days=4)
    world.clock.at = jst(first_of_next.year, first_of_next.month, 10, 4, 30)
    return bill_site_fees(world.ledger, world.store, month, SYSTEM)


def bills(world: World, prime: str) -> list[tuple[str, int, int, int, int, str]]:
    world.catch_up()
    return [(b["month"], b["usage_yen"], b["carried_in_yen"], b["billed_yen"],
             b["carried_out_yen"], b["outcome"]) for b in site_fee_bills(world.store, prime)]


def a_thousand_records(world: World, day: int) -> None:
    """1,000 worker-days at SITE_B in February: 50 workers × 20 days, one tap each."""
    taps = [TapObservation(TapId(f"GATE-B:{10_000 + n}"), ReaderId("GATE-B"), Direction.IN,
                           jst(2025, 2, 1 + n % 20, 8),
                           technician_id=TechnicianId(f"{90_000_000_000_000 + n // 20}"))
            for n in range(1000)]
    world.clock.at = jst(2025, 2, day, 9)
    world.ledger.record_taps(taps, SYSTEM)


def test_small_bills_carry_over_for_six_months_of_usage_and_late_records_are_billed_later(
    world: World,
) -> None:
    for day in (6, 7, 8):
        world.work(SITE, T1, date(2025, 1, day))
    world.work(STAMP_SITE, T1, date(2025, 1, 9))  # the fee is CCUS's, whatever the method
    assert bill(world, "2025-01")["carried_over"] == 2

    world.clock.at = jst(2025, 2, 5, 9)  # a January entry, approved after January was billed
    entry = world.ledger.request_manual_entry(
        T2, SITE, date(2025, 1, 20), SUB2, "鉄筋", "一般", "配筋", Actor(Role.EMPLOYER, SUB2))
    world.ledger.approve(entry, Actor(Role.PRIME_CONTRACTOR, PRIME))
    a_thousand_records(world, 21)
    for month in ("2025-02", "2025-03", "2025-04", "2025-05", "2025-06"):
        bill(world, month)

    assert bills(world, PRIME) == [
        ("2025-01", 30, 0, 0, 30, "carried_over"),
        ("2025-02", 10_010, 30, 10_040, 0, "billed"),
    ]
    assert site_fee_bills(world.store, PRIME)[1]["lines"] == [
        [SITE, "2025-01", 1, 10], [SITE_B, "2025-02", 1000, 10_000]]
    assert bills(world, OTHER) == [
        ("2025-01", 10, 0, 0, 10, "carried_over"),
        ("2025-02", 0, 10, 0, 10, "carried_over"),
        ("2025-03", 0, 10, 0, 10, "carried_over"),
        ("2025-04", 0, 10, 0, 10, "carried_over"),
        ("2025-05", 0, 10, 0, 10, "carried_over"),
        ("2025-06", 0, 10, 10, 0, "billed"),  # January's usage, in its sixth month
    ]


def test_billing_a_month_twice_bills_nothing_new(world: World) -> None:
    world.work(SITE, T1, date(2025, 1, 6))
    bill(world, "2025-01")
    position = world.event_count()
    counts = bill(world, "2025-01")
    assert counts == {"primes": 0, "already_billed": 1, "billed": 0, "carried_over": 0,
                      "billed_yen": 0, "office_borne_records": 0}
    assert world.event_count() == position


def test_a_training_sites_fee_is_borne_by_the_business_office_and_its_days_count(
    world: World,
) -> None:
    """CCUS登録教育訓練機関: its prime (振興基金) is billed nothing for it; its records are
    ordinary work records (their days count as work days)."""
    world.ledger.settings = world.ledger.settings.model_copy(
        update={"promotion_fund_business_id": OTHER})
    world.ledger.declare_training_institution(STAMP_SITE, Actor(Role.ADMIN, "admin"))
    world.work(SITE, T1, date(2025, 1, 6))
    world.work(STAMP_SITE, T1, date(2025, 1, 9))
    counts = bill(world, "2025-01")
    assert (counts["primes"], counts["office_borne_records"]) == (1, 1)
    assert bills(world, OTHER) == []
    assert bills(world, PRIME) == [("2025-01", 10, 0, 0, 10, "carried_over")]
    with world.store.read() as tx:
        days = tx.execute("SELECT work_date FROM {work_records} WHERE site_id = %s "
                          "AND status = 'counted'", [STAMP_SITE])
    assert [str(d)[:10] for (d,) in days] == ["2025-01-09"]
