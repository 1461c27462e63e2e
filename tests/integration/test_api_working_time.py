"""Working time over HTTP, both databases: reports and corrections, the monitor, time on site,
closures, and the orderer's aggregates with no personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from tests.api_support import (  # noqa: F401  (api_fixture is a fixture)
    ADMIN,
    PROBLEM_JSON,
    Api,
    World,
    api_fixture,
    api_settings_fixture,
    build_world,
)

H = 60


def get(api: Api, path: str, actor: Actor | None) -> httpx.Response:
    head = api.ledger.log_position()
    joiner = "&" if "?" in path else "?"
    return api.request("GET", f"{path}{joiner}min_position={head}", actor)


def taps(ledger: Ledger, w: World) -> None:
    for n, (hour, way) in enumerate(((8, "in"), (19, "out")), start=1):
        at = datetime(2025, 6, 16, hour, tzinfo=JST)
        with clock.clock_at(at):
            ledger.record_taps([TapObservation(f"{w.reader}:{n}", w.reader, way, at,
                                               card_id=w.card)], ADMIN)


def names_a_worker(node: Any) -> bool:
    if isinstance(node, dict):
        return "technician_id" in node or any(names_a_worker(v) for v in node.values())
    if isinstance(node, list):
        return any(names_a_worker(v) for v in node)
    return False


def test_an_employer_reports_and_the_monitor_reads_it(
    api: Api, ledger: Ledger, now: clock.FixedClock
) -> None:
    w = build_world(ledger, 1)
    employer = Actor(Role.EMPLOYER, w.sub)
    day = {"work_date": "2025-06-16", "statutory_minutes": 480, "overtime_minutes": 180}
    assert api.post(f"/v1/workers/{w.worker}/working-time/days", employer, day).status_code == 200
    refused = api.post(f"/v1/workers/{w.worker}/working-time/days", employer,
                       {**day, "overtime_minutes": 240})
    assert refused.status_code == 422 and refused.json()["field"] == "reason"
    corrected = api.post(f"/v1/workers/{w.worker}/working-time/days", employer,
                         {**day, "overtime_minutes": 240, "reason": "日報の転記誤り"})
    assert corrected.status_code == 200
    # Another business: the worker is absent to it.
    other = api.post(f"/v1/workers/{w.worker}/working-time/days", Actor(Role.EMPLOYER, w.other),
                     day)
    assert other.status_code == 404
    agreement = api.post(f"/v1/businesses/{w.sub}/overtime-agreements", employer,
                         {"start_month": "2025-04", "special_clause": True})
    assert agreement.status_code == 200

    mine = get(api, f"/v1/workers/{w.worker}/overtime?month=2025-06", Actor(Role.WORKER, w.worker))
    assert mine.status_code == 200, mine.text
    (row,) = mine.json()["items"]
    assert row["overtime_minutes"] == 240 and not row["estimated"]
    assert row["agreement"] == {"start_month": "2025-04", "special_clause": True}
    assert set(row["limits"]) == {"year_720h", "months_over_45h", "month_100h", "average_80h"}
    assert len(row["event_positions"]) == 2  # the report and its correction
    listed = get(api, f"/v1/businesses/{w.sub}/overtime?month=2025-06", employer)
    assert [r["technician_id"] for r in listed.json()["items"]] == [w.worker]
    csv = get(api, f"/v1/businesses/{w.sub}/overtime.csv?month=2025-06", employer)
    assert csv.content.startswith("\ufeff".encode()) and w.worker in csv.text
    for actor, status in ((Actor(Role.EMPLOYER, w.other), 404),
                          (Actor(Role.PRIME_CONTRACTOR, w.prime), 403),
                          (Actor(Role.WORKER, w.other_worker), 404)):
        assert get(api, f"/v1/workers/{w.worker}/overtime?month=2025-06",
                   actor).status_code == status, actor
    assert get(api, f"/v1/businesses/{w.sub}/overtime?month=2025-06",
               Actor(Role.EMPLOYER, w.other)).status_code == 404


def test_time_on_site_is_labelled_and_the_prime_sees_totals(
    api: Api, ledger: Ledger, now: clock.FixedClock
) -> None:
    w = build_world(ledger, 1)
    taps(ledger, w)
    answer = get(api, f"/v1/workers/{w.worker}/time-on-site?date_from=2025-06-01"
                      "&date_to=2025-06-30", Actor(Role.WORKER, w.worker))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["label"] == "time_on_site"
    assert [(d["work_date"], d["minutes_on_site"]) for d in body["items"]] == [
        ("2025-06-16", 11 * H)]
    totals = get(api, f"/v1/sites/{w.site}/time-on-site?date_from=2025-06-01"
                      "&date_to=2025-06-30", Actor(Role.PRIME_CONTRACTOR, w.prime))
    assert totals.status_code == 200
    assert totals.json()["items"] == [{"employer_business_id": w.sub, "worker_days": 1,
                                       "minutes_on_site": 11 * H, "unknown_exits": 0}]
    assert not names_a_worker(totals.json())
    # The estimate says so: nothing reported, so 11 h on site less 1 h break is 2 h over 8 h.
    estimate = get(api, f"/v1/workers/{w.worker}/overtime?month=2025-06",
                   Actor(Role.EMPLOYER, w.sub)).json()["items"]
    assert [(r["estimated"], r["overtime_minutes"], r["agreement"]) for r in estimate] == [
        (True, 2 * H, None)]


def test_the_orderer_sees_aggregates_of_its_sites_only(
    api: Api, ledger: Ledger, now: clock.FixedClock
) -> None:
    w = build_world(ledger, 1)
    taps(ledger, w)
    orderer = Actor(Role.ORDERER, w.orderer)  # named by the site's prime in build_world
    prime = Actor(Role.PRIME_CONTRACTOR, w.prime)
    assert api.post(f"/v1/sites/{w.site}/shifts", prime,
                    {"rotating_shifts": True}).status_code == 200
    assert api.post(f"/v1/sites/{w.site}/orderer", Actor(Role.PRIME_CONTRACTOR, w.other),
                    {"orderer_business_id": w.other}).status_code == 404
    span = "date_from=2025-06-01&date_to=2025-06-28"

    summary = get(api, f"/v1/sites/{w.site}/labour-summary?{span}", orderer)
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["records"] == 1 and body["records_without_direct_input"] == 1
    assert body["whole"]["closed"] == 27 and body["whole"]["meets_4w8"] is True
    assert not names_a_worker(body)
    closures = get(api, f"/v1/sites/{w.site}/closures?{span}", orderer).json()
    assert closures["rotating_shifts"] and closures["workers"] == []  # no worker for an orderer
    assert not names_a_worker(closures)
    by_prime = get(api, f"/v1/sites/{w.site}/closures?{span}", prime).json()
    assert [x["technician_id"] for x in by_prime["workers"]] == [w.worker]
    csv = get(api, f"/v1/sites/{w.site}/labour-summary.csv?{span}", orderer)
    assert csv.content.startswith("\ufeff".encode()) and w.worker not in csv.text
    sites = get(api, f"/v1/orderers/{orderer.id}/sites", orderer).json()["items"]
    assert [s["site_id"] for s in sites] == [w.site]

    # Another site, or anything about a worker: absent, or a role refused.
    assert get(api, f"/v1/sites/{w.other_site}/labour-summary?{span}", orderer).status_code == 404
    assert get(api, f"/v1/orderers/{w.prime}/sites", orderer).status_code == 404
    for path in (f"/v1/workers/{w.worker}/records?{span}", f"/v1/workers/{w.worker}/career?{span}",
                 f"/v1/workers/{w.worker}/time-on-site?{span}",
                 f"/v1/workers/{w.worker}/overtime?month=2025-06",
                 f"/v1/sites/{w.site}/attendance?work_date=2025-06-16",
                 f"/v1/sites/{w.site}/records.csv?month=2025-06",
                 f"/v1/sites/{w.site}/time-on-site?{span}"):
        answer = get(api, path, orderer)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.headers["content-type"] == PROBLEM_JSON
    # Writes: the orderer changes nothing.
    assert api.post(f"/v1/sites/{w.site}/shifts", orderer,
                    {"rotating_shifts": False}).status_code == 403
    # The prime names another orderer: the first one's view ends, the new one's begins.
    successor = f"{w.k}650"
    ledger.register_business(successor, "後任の発注者", ADMIN)
    named = api.post(f"/v1/sites/{w.site}/orderer", prime, {"orderer_business_id": successor})
    assert named.status_code == 200, named.text
    assert get(api, f"/v1/sites/{w.site}/labour-summary?{span}", orderer).status_code == 404
    assert get(api, f"/v1/sites/{w.site}/labour-summary?{span}",
               Actor(Role.ORDERER, successor)).status_code == 200
