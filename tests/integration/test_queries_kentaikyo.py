"""建退共 month reports from real records: the 2021-10-01 rate change, one contribution a day across
sites, non-enrolled workers, 元請一括 totals, and what a prime's or employer's scope shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.settings import Settings
from projections.kentaikyo import Ineligibility, Total
from projections.queries import KentaikyoMonth, Outcome, kentaikyo_month
from tests.integration.queries_world import (
    ADMIN,
    CARD_2,
    CARD_3,
    OTHER,
    OTHER_SITE,
    PRIME,
    PRIME_STAFF,
    SITE,
    SITE_B,
    SUB,
    SUB2,
    TECH_2,
    TECH_3,
    TECHNICIAN,
    Scene,
    jst,
)

ENROLLED = date(2021, 1, 1)


@pytest.fixture
def scene(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[Scene]:
    with Scene.built(ledger, settings, now) as built:
        ledger.register_business(SUB2, "山本工業", ADMIN)
        ledger.add_subcontract(SITE, SUB2, SUB, ADMIN)
        built.open_site(SITE_B, PRIME, "GATE-B")
        built.open_site(OTHER_SITE, OTHER, "GATE-O")
        built.roster(SITE_B, TECHNICIAN, SUB)
        built.roster(OTHER_SITE, TECHNICIAN, SUB)
        built.worker(TECH_2, SUB2, CARD_2)
        built.roster(SITE, TECH_2, SUB2)
        built.worker(TECH_3, SUB, CARD_3)
        built.roster(SITE, TECH_3, SUB)
        for business_id in (PRIME, SUB, SUB2, OTHER):
            ledger.enroll_business_in_kentaikyo(business_id, f"9{business_id}", ENROLLED, ADMIN)
        for technician_id in (TECHNICIAN, TECH_2):  # TECH_3 is not a member
            ledger.enroll_worker_in_kentaikyo(technician_id, technician_id, ENROLLED, ADMIN)
        yield built


def outcomes(report: KentaikyoMonth) -> list[tuple[str, str, date, Outcome, int]]:
    return [(line.technician_id, line.site_id, day.work_date, day.outcome, day.points_yen)
            for line in report.lines for day in line.days]


def test_daily_rate_is_310_up_to_2021_09_30_and_320_from_2021_10_01(scene: Scene) -> None:
    scene.shift("GATE-1", jst(2021, 9, 30, 8))
    scene.shift("GATE-1", jst(2021, 10, 1, 8))
    with scene.read() as tx:
        september, october = kentaikyo_month(tx, "2021-09"), kentaikyo_month(tx, "2021-10")
    assert outcomes(september) == [(TECHNICIAN, SITE, date(2021, 9, 30), Outcome.ELIGIBLE, 310)]
    assert outcomes(october) == [(TECHNICIAN, SITE, date(2021, 10, 1), Outcome.ELIGIBLE, 320)]
    assert september.employer_totals == {SUB: Total(1, 310)}
    assert october.due_on == date(2021, 11, 30)


def test_a_day_on_two_sites_is_paid_once_by_the_earliest_entry(scene: Scene) -> None:
    scene.shift("GATE-B", jst(2021, 10, 4, 13), hours=4)
    scene.shift("GATE-1", jst(2021, 10, 4, 8), hours=4)
    with scene.read() as tx:
        report = kentaikyo_month(tx, "2021-10")
    assert outcomes(report) == [
        (TECHNICIAN, SITE, date(2021, 10, 4), Outcome.ELIGIBLE, 320),
        (TECHNICIAN, SITE_B, date(2021, 10, 4), Outcome.ALREADY_COVERED, 0)]
    assert report.lines[1].days[0].carrying_site_id == SITE
    assert report.points_yen == 320 and report.prime_totals[PRIME].total == Total(1, 320)


def test_a_non_enrolled_workers_days_are_reported_not_eligible(scene: Scene) -> None:
    scene.shift("GATE-1", jst(2021, 10, 5, 8), card_id=CARD_3)
    scene.shift("GATE-1", jst(2021, 10, 6, 8), card_id=CARD_3)
    with scene.read() as tx:
        report = kentaikyo_month(tx, "2021-10")
    [line] = report.lines
    assert (line.technician_id, line.eligible_days, line.not_eligible_days) == (TECH_3, 0, 2)
    assert {day.reason for day in line.days} == {Ineligibility.NOT_ENROLLED}
    assert report.points_yen == 0 and report.employer_totals == {SUB: Total(0, 0)}


def test_prime_totals_include_subcontractors_workers(scene: Scene) -> None:
    scene.shift("GATE-1", jst(2021, 10, 7, 8))
    scene.shift("GATE-1", jst(2021, 10, 7, 8), card_id=CARD_2)
    with scene.read() as tx:
        prime = kentaikyo_month(tx, "2021-10", only_sites_of_prime=PRIME)
        sub2 = kentaikyo_month(tx, "2021-10", only_employer=SUB2)
    total = prime.prime_totals[PRIME]
    assert total.total == Total(2, 640)
    assert dict(total.by_employer) == {SUB: Total(1, 320), SUB2: Total(1, 320)}
    assert [(line.technician_id, line.upper_chain) for line in sub2.lines] == [
        (TECH_2, (SUB, PRIME))]
    assert sub2.employer_totals == {SUB2: Total(1, 320)}


def test_a_primes_scope_says_already_covered_without_naming_another_primes_site(
    scene: Scene,
) -> None:
    scene.shift("GATE-O", jst(2021, 10, 8, 7), hours=3)
    scene.shift("GATE-1", jst(2021, 10, 8, 11), hours=5)
    with scene.read() as tx:
        everything = kentaikyo_month(tx, "2021-10")
        prime = kentaikyo_month(tx, "2021-10", only_sites_of_prime=PRIME)
        employer = kentaikyo_month(tx, "2021-10", only_employer=SUB)
    assert [line.site_id for line in prime.lines] == [SITE]
    [day] = prime.lines[0].days
    assert (day.outcome, day.carrying_site_id) == (Outcome.ALREADY_COVERED, None)
    assert list(prime.prime_totals) == [PRIME] and prime.points_yen == 0
    assert {line.site_id for line in everything.lines} == {SITE, OTHER_SITE}
    covered = next(line for line in everything.lines if line.site_id == SITE).days[0]
    assert covered.carrying_site_id == OTHER_SITE
    assert everything.prime_totals[OTHER].total == Total(1, 320)
    assert employer.employer_totals == {SUB: Total(1, 320)}  # SUB sees both of its lines


def test_days_before_the_workers_enrollment_are_not_eligible(scene: Scene) -> None:
    scene.shift("GATE-1", jst(2020, 12, 28, 8))
    with scene.read() as tx:
        report = kentaikyo_month(tx, "2020-12", technician_id=TECHNICIAN)
    assert [day.reason for line in report.lines for day in line.days] == [
        Ineligibility.BEFORE_ENROLLMENT]


def test_a_manual_entry_earns_points_only_once_approved(
    scene: Scene, ledger: Ledger, now: FixedClock,
) -> None:
    now.at = jst(2021, 10, 13, 9)  # the day after the forgotten card, within the deadline
    request_id = scene.manual_entry(date(2021, 10, 12), site_id=SITE_B)
    with scene.read() as tx:
        assert kentaikyo_month(tx, "2021-10").lines == ()
    now.at = jst(2021, 10, 14, 9)
    ledger.approve(request_id, PRIME_STAFF)
    with scene.read() as tx:
        report = kentaikyo_month(tx, "2021-10", only_sites_of_prime=PRIME)
    assert outcomes(report) == [(TECHNICIAN, SITE_B, date(2021, 10, 12), Outcome.ELIGIBLE, 320)]
