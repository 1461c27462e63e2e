"""Privacy decisions that need a world of their own (DESIGN §2), on both databases: a day carried
by another site is named to that site's prime only; upper subcontractors read their lower tiers
on a site, not those workers' careers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from ledger.actors import Actor, Role
from ledger.clock import JST
from ledger.tap_records import observation_from_mapping
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ADMIN,
    Api,
    World,
    api_fixture,
    api_settings_fixture,
    build_world,
)

DAY = date(2025, 6, 16)


@pytest.fixture
def two_sites(api: Api) -> tuple[World, str]:
    """The worker at two sites of one prime on one day: employed by `sub` at `site` (in 08:00,
    out 12:00) and by `spare` at a second site (in 13:00, out 17:00)."""
    w = build_world(api.ledger, 1)
    site2, reader2, ledger = f"{w.k:04d}1000000003", f"GATE{w.k}-2", api.ledger
    ledger.open_site(site2, "第二現場", w.prime, "electronic", date(2024, 1, 9), ADMIN)
    ledger.add_subcontract(site2, w.spare, w.prime, ADMIN)
    ledger.join_employer(w.worker, w.spare, date(2020, 4, 1), False, ADMIN)
    ledger.set_roster_entry(site2, w.worker, w.spare, "鉄筋", "一般", date(2024, 1, 9), ADMIN)
    ledger.register_reader(reader2, site2, "auto", ADMIN)
    ledger.enroll_worker_in_kentaikyo(w.worker, "7001", date(2025, 1, 1), ADMIN)
    for business in (w.sub, w.spare):
        ledger.enroll_business_in_kentaikyo(business, f"9{business}", date(2025, 1, 1), ADMIN)
    taps = [(w.reader, 1, "in", 8), (w.reader, 2, "out", 12), (reader2, 1, "in", 13),
            (reader2, 2, "out", 17)]
    ledger.record_taps([observation_from_mapping({
        "tap_id": f"{reader}:{n}", "reader_id": reader, "card_id": w.card, "direction": way,
        "reader_time": datetime(2025, 6, 16, hour, tzinfo=JST).isoformat()})
        for reader, n, way, hour in taps], ADMIN)
    return w, site2


def days(api: Api, path: str, actor: Actor) -> list[tuple[str, str, Any]]:
    response = api.request("GET", f"{path}&min_position={api.ledger.log_position()}", actor)
    assert response.status_code == 200, response.text
    body = response.json()
    lines = body["items"] if "items" in body else body["lines"]
    return [(line["site_id"], day["outcome"], day["carrying_site_id"])
            for line in lines for day in line["days"]]


def test_a_day_carried_by_another_site_is_named_to_its_prime_only(
    api: Api, two_sites: tuple[World, str]
) -> None:
    w, site2 = two_sites
    path = f"/v1/sites/{site2}/kentaikyo?month=2025-06"
    prime, spare = Actor(Role.PRIME_CONTRACTOR, w.prime), Actor(Role.EMPLOYER, w.spare)
    assert days(api, path, prime) == [(site2, "already_covered", w.site)]
    assert days(api, path, spare) == [(site2, "already_covered", None)]
    career = f"/v1/workers/{w.worker}/kentaikyo?month=2025-06"
    assert days(api, career, spare) == [(site2, "already_covered", None)]
    assert days(api, career, Actor(Role.WORKER, w.worker)) == [
        (w.site, "eligible", None), (site2, "already_covered", w.site)]


def test_an_upper_subcontractor_reads_its_lower_tier_on_the_site_not_their_careers(
    api: Api, two_sites: tuple[World, str]
) -> None:
    """Decision: a worker's career (records across sites) is read by their own employers; an
    upper subcontractor reads the lower tiers' rows on its sites (attendance, Kentaikyo)."""
    w, _ = two_sites
    lower, lower_worker = f"{w.k}500", f"{w.k:04d}5555555555"
    api.ledger.register_business(lower, "孫請", ADMIN)
    api.ledger.add_subcontract(w.site, lower, w.sub, ADMIN)
    api.ledger.register_worker(lower_worker, "孫 三郎", ADMIN)
    api.ledger.join_employer(lower_worker, lower, date(2020, 4, 1), True, ADMIN)
    api.ledger.set_roster_entry(w.site, lower_worker, lower, "鉄筋", "一般", date(2024, 1, 9),
                                ADMIN)
    api.ledger.record_taps([observation_from_mapping({
        "tap_id": f"{w.reader}:9", "reader_id": w.reader, "technician_id": lower_worker,
        "direction": "in", "reader_time": datetime(2025, 6, 16, 8, tzinfo=JST).isoformat()})],
        ADMIN)
    head, sub = api.ledger.log_position(), Actor(Role.EMPLOYER, w.sub)
    day = api.request("GET", f"/v1/sites/{w.site}/attendance?work_date=2025-06-16"
                      f"&min_position={head}", sub).json()
    assert sorted(r["technician_id"] for r in day["items"]) == sorted([w.worker, lower_worker])
    career = api.request("GET", f"/v1/workers/{lower_worker}/career?date_from=2025-06-01"
                         f"&date_to=2025-06-30&min_position={head}", sub)
    assert career.status_code == 404


def test_time_on_site_adds_both_sites_and_the_prime_reads_other_employers_as_totals(
    api: Api, two_sites: tuple[World, str]
) -> None:
    """Working time (Issue 17): the worker's day is both sites added (4 h + 4 h); the prime reads
    its sites' time on site by employer, as totals, never one worker's day of another employer
    through the site; an orderer of one site reads that site's aggregates and nothing else."""
    w, site2 = two_sites
    head = api.ledger.log_position()
    span = f"date_from=2025-06-01&date_to=2025-06-30&min_position={head}"
    mine = api.request("GET", f"/v1/workers/{w.worker}/time-on-site?{span}",
                       Actor(Role.WORKER, w.worker)).json()["items"]
    assert [(d["minutes_on_site"], len(d["sites"])) for d in mine] == [(8 * 60, 2)]
    # The employer `spare` reads only its part of the day.
    spares = api.request("GET", f"/v1/workers/{w.worker}/time-on-site?{span}",
                         Actor(Role.EMPLOYER, w.spare)).json()["items"]
    assert [[s["site_id"] for s in d["sites"]] for d in spares] == [[site2]]
    totals = api.request("GET", f"/v1/sites/{site2}/time-on-site?{span}",
                         Actor(Role.PRIME_CONTRACTOR, w.prime)).json()
    assert totals["items"] == [{"employer_business_id": w.spare, "worker_days": 1,
                                "minutes_on_site": 4 * 60, "unknown_exits": 0}]
    # The orderer of `site` (build_world names it) reads nothing of site2 nor of the worker.
    orderer = Actor(Role.ORDERER, w.orderer)
    assert api.request("GET", f"/v1/sites/{site2}/labour-summary?{span}",
                       orderer).status_code == 404
    summary = api.request("GET", f"/v1/sites/{w.site}/labour-summary?{span}", orderer)
    assert summary.status_code == 200 and w.worker not in summary.text
    assert "山田" not in summary.text
