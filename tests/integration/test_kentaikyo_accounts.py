"""建退共の口座: points bought and used with the balance per month, the shortfall answer, rebate
campaigns (first and last day, cap), and report due dates from wage-payment dates across year
ends. Written through the ledger, read from the read models, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.kentaikyo_account import (
    CAMPAIGNS,
    KentaikyoAccount,
    PointsShortfall,
    RebateCampaign,
    report_due_on,
)
from ledger.errors import InvalidState, InvalidValue, NotPermitted
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.queries.kentaikyo_accounts import (
    AccountMonth,
    account_months,
    due_reminders,
    reconcile,
    report_deadlines,
    shortfall,
)
from projections.store import ReadStore
from tests.integration.jobs_world import (
    OTHER,
    PRIME,
    SITE,
    STAMP_SITE,
    SUB,
    SUB2,
    T1,
    T2,
    T3,
    World,
)

ADMIN = Actor(Role.ADMIN, "admin")
EMPLOYER = "5100000001"
OWNER = Actor(Role.EMPLOYER, EMPLOYER)


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadStore]:
    read_store = ReadStore(settings)
    yield read_store
    read_store.close()


@pytest.fixture
def contracting(ledger: Ledger) -> str:
    ledger.register_business(EMPLOYER, "鈴木工業", ADMIN)
    ledger.enroll_business_in_kentaikyo(EMPLOYER, "123456", date(2020, 4, 1), ADMIN)
    return EMPLOYER


def test_a_balance_of_exactly_the_points_needed_is_enough_and_one_more_is_short(
    ledger: Ledger, store: ReadStore, contracting: str
) -> None:
    ledger.purchase_points(contracting, "P-1", date(2025, 5, 10), 6_400, False, OWNER)
    with pytest.raises(PointsShortfall) as short:
        ledger.use_points(contracting, "2025-05", date(2025, 6, 15), 6_401, OWNER)
    assert (short.value.field, short.value.needed, short.value.balance, short.value.short) == (
        "points", 6_401, 6_400, 1)
    ledger.use_points(contracting, "2025-05", date(2025, 6, 15), 6_400, OWNER)  # exactly zero
    with pytest.raises(PointsShortfall):
        ledger.use_points(contracting, "2025-06", date(2025, 6, 16), 1, OWNER)
    LogFollower(ledger, store).catch_up()
    assert account_months(store, contracting, "2025-04", "2025-06") == [
        AccountMonth("2025-04", 0, 0, 0, 0), AccountMonth("2025-05", 0, 6_400, 0, 0),
        AccountMonth("2025-06", 6_400, 0, 0, 6_400)]
    assert account_months(store, contracting, "2025-06", "2025-06")[0].closing == 0
    assert shortfall(store, contracting, 6_400, date(2025, 6, 14)) == 0
    assert shortfall(store, contracting, 320, date(2025, 6, 15)) == 320


def test_a_use_dated_before_a_later_use_may_not_take_what_that_one_used(
    ledger: Ledger, contracting: str
) -> None:
    ledger.purchase_points(contracting, "P-1", date(2025, 5, 1), 1_000, False, OWNER)
    ledger.use_points(contracting, "2025-06", date(2025, 7, 10), 800, OWNER)
    with pytest.raises(PointsShortfall):  # 1,000 on 6-10, but 7-10's use needs 800 of them
        ledger.use_points(contracting, "2025-05", date(2025, 6, 10), 300, OWNER)


def test_rebates_apply_to_purchases_from_the_first_to_the_last_day_of_the_campaign(
    ledger: Ledger, store: ReadStore, contracting: str
) -> None:
    for purchase, on, points, linked in (
            ("before", date(2025, 9, 30), 100_000, False),
            ("first", date(2025, 10, 1), 100_000, False),  # 2 %
            ("linked", date(2026, 1, 15), 100_000, True),  # 5 %
            ("last", date(2026, 3, 31), 10_050, False),  # 201 (rounded down from 201.0)
            ("after", date(2026, 4, 1), 100_000, True)):
        ledger.purchase_points(contracting, purchase, on, points, linked, OWNER)
    assert ledger.credit_rebates(contracting, date(2026, 3, 31), ADMIN) == 0  # not yet
    assert ledger.credit_rebates(contracting, date(2026, 4, 1), ADMIN) == 3
    assert ledger.credit_rebates(contracting, date(2026, 4, 2), ADMIN) == 0  # credited once
    LogFollower(ledger, store).catch_up()
    april = account_months(store, contracting, "2026-04", "2026-04")[0]
    assert april.credited == 2_000 + 5_000 + 201
    with pytest.raises(NotPermitted):
        ledger.credit_rebates(contracting, date(2026, 4, 1), OWNER)


def test_the_cap_limits_the_campaigns_credits_and_the_purchase_that_reaches_it_gets_the_rest(
    ledger: Ledger, contracting: str
) -> None:
    campaign = CAMPAIGNS[0]
    account = KentaikyoAccount.open(contracting, ADMIN)
    account.purchase("big", date(2025, 11, 1), 39_000_000, True, OWNER)  # 1,950,000
    account.purchase("more", date(2025, 12, 1), 5_000_000, False, OWNER)  # 100,000 → 50,000
    account.purchase("over", date(2026, 1, 1), 5_000_000, False, OWNER)  # nothing left
    assert account.rebates_due(date(2026, 4, 1)) == [
        (campaign.campaign_id, "big", 1_950_000), (campaign.campaign_id, "more", 50_000)]
    account.credit_rebates(date(2026, 4, 1), ADMIN)
    assert account.credited[campaign.campaign_id] == campaign.cap_points
    assert account.rebates_due(date(2026, 5, 1)) == []


def test_an_effective_dated_campaign_is_data() -> None:
    campaign = RebateCampaign("T", date(2030, 1, 1), date(2030, 1, 31), 1, 3, 10, date(2030, 2, 1))
    assert (campaign.covers(date(2029, 12, 31)), campaign.covers(date(2030, 1, 31))) == (
        False, True)
    assert (campaign.rebate(999, False), campaign.rebate(999, True)) == (9, 29)


@pytest.mark.parametrize(("paid_on", "due_on"), [
    (date(2025, 11, 30), date(2025, 12, 31)),
    (date(2025, 12, 10), date(2026, 1, 31)),  # across the year end
    (date(2025, 12, 31), date(2026, 1, 31)),
    (date(2026, 1, 10), date(2026, 2, 28)),  # wages of December paid in January
])
def test_the_due_date_is_the_end_of_the_month_after_the_wage_payment(
    paid_on: date, due_on: date
) -> None:
    assert report_due_on(paid_on) == due_on


def test_deadlines_by_stated_wage_payment_dates_and_reminders_before_them(
    ledger: Ledger, store: ReadStore, contracting: str
) -> None:
    ledger.set_wage_payment_date(contracting, "2025-12", date(2026, 1, 10), OWNER)
    with pytest.raises(InvalidValue) as early:
        ledger.set_wage_payment_date(contracting, "2025-12", date(2025, 11, 30), OWNER)
    assert early.value.field == "paid_on"
    ledger.purchase_points(contracting, "P", date(2025, 11, 1), 10_000, False, OWNER)
    ledger.use_points(contracting, "2025-11", date(2025, 12, 20), 3_200, OWNER)
    LogFollower(ledger, store).catch_up()
    assert [(d.month, d.wage_paid_on, d.stated, d.due_on, d.applied)
            for d in report_deadlines(store, contracting, "2025-11", "2026-01")] == [
        ("2025-11", date(2025, 11, 30), False, date(2025, 12, 31), True),
        ("2025-12", date(2026, 1, 10), True, date(2026, 2, 28), False),
        ("2026-01", date(2026, 1, 31), False, date(2026, 2, 28), False)]
    assert [d.month for d in due_reminders(store, contracting, date(2026, 2, 20), 10)] == [
        "2025-12", "2026-01"]
    assert due_reminders(store, contracting, date(2026, 2, 10), 10) == []


def test_only_a_contracting_employer_keeps_points_and_only_its_own(
    ledger: Ledger, contracting: str
) -> None:
    ledger.register_business("5100000002", "未加入建設", ADMIN)
    with pytest.raises(InvalidState) as raised:
        ledger.purchase_points("5100000002", "P", date(2025, 5, 1), 100, False, ADMIN)
    assert raised.value.field == "business_id"
    with pytest.raises(NotPermitted):
        ledger.purchase_points(contracting, "P", date(2025, 5, 1), 100, False,
                               Actor(Role.EMPLOYER, "5100000002"))
    for bad in (0, -5, 1.5, True):
        with pytest.raises(InvalidValue):
            ledger.purchase_points(contracting, "P", date(2025, 5, 1), bad,  # type: ignore[arg-type]
                                   False, OWNER)
    ledger.purchase_points(contracting, "P", date(2025, 5, 1), 100, False, OWNER)
    with pytest.raises(InvalidState):
        ledger.purchase_points(contracting, "P", date(2025, 5, 2), 100, False, OWNER)


# -- coverage reconciliation -------------------------------------------------------------------
@pytest.fixture
def jobs(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    with World.built(ledger, settings, now) as built:
        yield built


def test_each_worker_day_is_covered_once_not_covered_paid_twice_or_not_eligible(
    jobs: World,
) -> None:
    """T1 (SUB's, enrolled) on SITE (electronic) and STAMP_SITE; T2 (SUB2's) on SITE; T3 not
    enrolled. SUB applies its report; the prime pays for T2 (元請一括) and pays one of T1's days
    again."""
    days = [date(2025, 5, d) for d in (12, 13, 14)]
    for day in days:
        jobs.work(SITE, T1, day)
    jobs.work(STAMP_SITE, T1, date(2025, 5, 15))
    jobs.work(SITE, T2, days[0])
    jobs.work(SITE, T3, days[0])
    sub, prime = Actor(Role.EMPLOYER, SUB), Actor(Role.EMPLOYER, PRIME)
    for business, actor in ((SUB, sub), (PRIME, prime)):
        jobs.ledger.purchase_points(business, "P", date(2025, 5, 1), 10_000, False, actor)
    jobs.ledger.use_points(SUB, "2025-05", date(2025, 6, 10), 640, sub,
                           days=((T1, SITE, days[0]), (T1, SITE, days[1])))
    jobs.ledger.use_points(PRIME, "2025-05", date(2025, 6, 10), 640, prime,
                           days=((T2, SITE, days[0]), (T1, SITE, days[1])))
    jobs.catch_up()

    def view(**scope: str) -> dict[tuple[str, int], tuple[str, int, tuple[str, ...]]]:
        result = reconcile(jobs.store, "2025-05", **scope)
        return {(d.technician_id, d.work_date.day): (
            d.coverage.value, d.paid, tuple(c.payer_business_id for c in d.contributions))
            for d in result.days}

    assert view() == {
        (T1, 12): ("covered_once", 1, (SUB,)),
        (T1, 13): ("paid_twice", 2, (SUB, PRIME)),
        (T1, 14): ("not_covered", 0, ()),
        (T1, 15): ("not_eligible", 0, ()),
        (T2, 12): ("covered_once", 1, (PRIME,)),
        (T3, 12): ("not_eligible", 0, ()),
    }
    whole = reconcile(jobs.store, "2025-05")
    assert whole.counts() == {"covered_once": 2, "not_covered": 1, "paid_twice": 1,
                              "not_eligible": 2}
    stamp = next(d for d in whole.days if d.work_date.day == 15)
    assert (stamp.reasons, stamp.site_ids) == (("stamp_site",), (STAMP_SITE,))
    assert stamp.record_positions  # the records behind it, by log position
    # SUB2 sees what the prime paid for its worker; the prime sees its sites only (not the
    # stamp site of OTHER), with every payment made on them.
    assert view(only_employer=SUB2) == {(T2, 12): ("covered_once", 1, (PRIME,))}
    assert set(view(only_sites_of_prime=PRIME)) == {
        (T1, 12), (T1, 13), (T1, 14), (T2, 12), (T3, 12)}
    assert view(only_sites_of_prime=OTHER) == {(T1, 15): ("not_eligible", 0, ())}


def test_a_report_lists_a_worker_day_once(ledger: Ledger, contracting: str) -> None:
    ledger.purchase_points(contracting, "P", date(2025, 5, 1), 1_000, False, OWNER)
    twice = (("11111111111111", "10000000000001", date(2025, 5, 2)),) * 2
    with pytest.raises(InvalidValue) as raised:
        ledger.use_points(contracting, "2025-05", date(2025, 6, 1), 640, OWNER, days=twice)
    assert raised.value.field == "days"
