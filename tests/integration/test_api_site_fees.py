"""現場利用料 in the API, on SQLite and PostgreSQL: a prime reads its bills per month and per site
(amount, worker-days, billed or carried over, months carried); the billing jobs' figures in
`/v1/ready` are shown only with an auditor's or admin's key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from ledger.actors import SYSTEM, Actor, Role, Scope
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.settings import Settings
from projections.jobs.runs import run_job
from projections.jobs.scheduler import BILL
from projections.jobs.site_fees import bill_site_fees
from tests.api_support import ADMIN, AUDITOR, Api, api_fixture, api_settings_fixture  # noqa: F401
from tests.integration.jobs_world import OTHER, PRIME, SITE, SITE_B, STAMP_SITE, T1, World, jst

PRIME_KEY = Actor(Role.PRIME_CONTRACTOR, PRIME)


@pytest.fixture
def world(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    with World.built(ledger, settings, now, at=jst(2025, 1, 1, 9),
                     opened_on=date(2025, 1, 1)) as built:
        yield built


def bill(world: World, month: str) -> None:
    year, number = map(int, month.split("-"))
    first_of_next = date(year, number, 28) + timedelta(days=4)
    world.clock.at = jst(first_of_next.year, first_of_next.month, 10, 4, 30)
    run_job(world.store, BILL, month,
            lambda: bill_site_fees(world.ledger, world.store, month, SYSTEM))


def test_a_prime_reads_its_bills_per_month_and_per_site(api: Api, world: World) -> None:
    for day in (6, 7, 8):
        world.work(SITE, T1, date(2025, 1, day))
    world.work(SITE_B, T1, date(2025, 1, 9))
    world.work(STAMP_SITE, T1, date(2025, 1, 10))  # OTHER's site: not on PRIME's bill
    for month in ("2025-01", "2025-02"):
        bill(world, month)
    head = api.ledger.log_position()

    answer = api.request("GET", f"/v1/primes/{PRIME}/site-fees?min_position={head}", PRIME_KEY)
    assert answer.status_code == 200, answer.text
    bills = answer.json()["items"]
    assert [(b["month"], b["usage_yen"], b["carried_in_yen"], b["billed_yen"],
             b["carried_out_yen"], b["outcome"], b["months_carried"], b["worker_days"])
            for b in bills] == [("2025-01", 40, 0, 0, 40, "carried_over", 1, 4),
                                ("2025-02", 0, 40, 0, 40, "carried_over", 2, 0)]
    assert bills[0]["lines"] == [
        {"site_id": SITE, "work_month": "2025-01", "worker_days": 3, "yen": 30},
        {"site_id": SITE_B, "work_month": "2025-01", "worker_days": 1, "yen": 10}]

    one_site = api.request("GET", f"/v1/primes/{PRIME}/site-fees?month=2025-01&site_id={SITE_B}",
                           PRIME_KEY).json()
    assert one_site["site_id"] == SITE_B
    assert [(b["month"], b["worker_days"], b["lines"]) for b in one_site["items"]] == [
        ("2025-01", 1, [{"site_id": SITE_B, "work_month": "2025-01", "worker_days": 1,
                         "yen": 10}])]


def test_another_business_and_scoped_keys_read_no_bill(api: Api, world: World) -> None:
    world.work(SITE, T1, date(2025, 1, 6))
    bill(world, "2025-01")
    path = f"/v1/primes/{PRIME}/site-fees"
    assert api.request("GET", path, Actor(Role.PRIME_CONTRACTOR, OTHER)).status_code == 404
    assert api.request("GET", "/v1/primes/9999/site-fees", AUDITOR).status_code == 404
    assert api.request("GET", path, Actor(Role.SITE_MANAGER, PRIME, Scope(
        sites=frozenset({SITE})))).status_code == 403
    assert api.request("GET", path, Actor(Role.PRIME_CONTRACTOR, PRIME, Scope(
        sites=frozenset({SITE})))).status_code == 403
    assert api.request("GET", path, Actor(Role.EMPLOYER, PRIME)).status_code == 403
    assert api.request("GET", path, None).status_code == 401
    assert api.request("GET", path, AUDITOR).status_code == 200


def test_ready_shows_billing_figures_only_with_an_auditors_or_admins_key(
    api: Api, world: World
) -> None:
    world.work(SITE, T1, date(2025, 1, 6))
    bill(world, "2025-01")

    def billing_counts(actor: Actor | None) -> dict[str, object]:
        runs = api.request("GET", "/v1/ready", actor).json()["job_runs"]
        (run,) = [r for r in runs if r["job"] == BILL]
        assert run["outcome"] == "succeeded"
        counts: dict[str, object] = run["counts"]
        return counts

    assert billing_counts(None) == {}
    assert billing_counts(PRIME_KEY) == {}
    assert billing_counts(AUDITOR)["billed_yen"] == 0
    assert billing_counts(ADMIN)["carried_over"] == 1
    bad = api.client.get("/v1/ready", headers={"Authorization": "Bearer ldg_nope_nope"})
    assert bad.status_code == 200 and [r["counts"] for r in bad.json()["job_runs"]] == [{}]
