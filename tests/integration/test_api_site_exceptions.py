"""Resolving an unknown card over HTTP (`POST /v1/sites/{site_id}/unknown-cards/{card_id}/assign`),
on both databases: who may (the prime, its site manager on that site, admin), the same 404 for a
hidden site as for an absent one, and the exceptions list showing the decision once projected.
The write matrix (tests/api_support.py) holds the endpoint's refusals for every other role."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from api.config import ApiSettings
from ledger.actors import Actor, Role, Scope
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.store import ReadStore
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ADMIN,
    PROBLEM_JSON,
    Api,
    World,
    api_fixture,
    build_world,
    same_not_found,
)

RANGE = "?date_from=2025-06-01&date_to=2025-06-30"


@pytest.fixture(name="api_settings")
def api_settings_fixture() -> ApiSettings:
    return ApiSettings(reader_cache_seconds=30.0, projection=False)


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadStore]:
    read_store = ReadStore(settings)
    yield read_store
    read_store.close()


def stray_card(w: World) -> str:
    return f"0DDD{w.k:04X}"


def stray_taps(api: Api, w: World) -> str:
    """An unknown card's entry and exit at the site's gate on 2025-06-19; the entry's tap ID."""
    taps = [TapObservation(f"{w.reader}:{900 + n}", w.reader, way,
                           datetime(2025, 6, 19, hour, tzinfo=JST), card_id=stray_card(w))
            for n, (way, hour) in enumerate((("in", 8), ("out", 17)))]
    api.ledger.record_taps(taps, ADMIN)
    return taps[0].tap_id


def assign(api: Api, w: World, actor: Actor | None, site_id: str | None = None,
           tap_id: str | None = None) -> httpx.Response:
    return api.post(f"/v1/sites/{site_id or w.site}/unknown-cards/{stray_card(w)}/assign", actor,
                    {"technician_id": w.worker, "tap_id": tap_id or f"{w.reader}:900",
                     "reason": "名簿の顔写真で確認"})


def site_managers(w: World) -> dict[str, Actor]:
    return {
        "site_manager_own": Actor(Role.SITE_MANAGER, w.prime, Scope(sites=frozenset({w.site}))),
        "site_manager_granted": Actor(Role.SITE_MANAGER, w.prime,
                                      Scope(sites=frozenset({w.site}), approves=True)),
        "site_manager_other": Actor(Role.SITE_MANAGER, w.other,
                                    Scope(sites=frozenset({w.other_site}))),
    }


EXPECTED = {
    "prime_own": 200, "admin": 200, "site_manager_own": 200, "site_manager_granted": 200,
    "prime_other": 404, "employer_other": 404, "site_manager_other": 404,
    "employer_own": 403, "worker_self": 403, "worker_other": 403, "reader": 403, "auditor": 403,
    "no_token": 401,
}


def test_who_may_resolve_an_unknown_card(api: Api) -> None:
    actual = {}
    for k, role in enumerate(EXPECTED, start=1):
        w = build_world(api.ledger, k)
        stray_taps(api, w)
        actor = {**w.actors(), **site_managers(w)}[role]
        before = api.ledger.log_position()
        response = assign(api, w, actor)
        actual[role] = response.status_code
        if response.is_success:
            assert response.json()["position"] > before
        else:
            assert response.headers["content-type"] == PROBLEM_JSON
            assert api.ledger.log_position() == before, f"{role}: a refusal stored something"
    assert actual == EXPECTED


def test_a_hidden_site_is_answered_as_an_absent_one(api: Api) -> None:
    w = build_world(api.ledger, 1)
    stray_taps(api, w)
    for actor in (site_managers(w)["site_manager_other"], w.actors()["prime_other"]):
        hidden = assign(api, w, actor)
        absent = assign(api, w, actor, site_id=w.absent_site())
        same_not_found(hidden, absent)


def test_the_exceptions_list_shows_the_decision_and_the_taps_count(
    api: Api, store: ReadStore
) -> None:
    w = build_world(api.ledger, 1)
    entry = stray_taps(api, w)
    manager = site_managers(w)["site_manager_own"]
    not_a_tap = assign(api, w, manager, tap_id=f"{w.reader}:404")
    assert not_a_tap.status_code == 409
    assert not_a_tap.json()["field"] == "tap_id"
    answered = assign(api, w, manager, tap_id=entry)
    assert answered.status_code == 200, answered.text
    LogFollower(api.ledger, store).catch_up()

    listed = api.request("GET", f"/v1/sites/{w.site}/exceptions{RANGE}",
                         w.actors()["prime_own"]).json()["items"]
    assert [(e["tap_id"], e["kinds"], e["resolved_by"]) for e in listed] == [
        (f"{w.reader}:900", ["unknown_card"], f"site_manager:{w.prime}"),
        (f"{w.reader}:901", ["unknown_card"], f"site_manager:{w.prime}")]
    assert all(e["resolution"]["technician_id"] == w.worker
               and e["resolution"]["reason"] == "名簿の顔写真で確認"
               and e["resolved_at"] == "2025-06-20T01:00:00Z" for e in listed)
    with store.read() as tx:
        records = tx.execute("SELECT employer_business_id, trade, source, status, first_entry "
                             "FROM {work_records} WHERE technician_id = %s AND site_id = %s",
                             [w.worker, w.site])
    assert [tuple(r[:4]) for r in records] == [(w.sub, "鉄筋", "card", "counted")]


def test_a_missing_exit_resolved_over_http_is_listed_beside_the_record(
    api: Api, store: ReadStore
) -> None:
    w = build_world(api.ledger, 1)
    api.ledger.record_taps([TapObservation(f"{w.reader}:900", w.reader, "in",
                                           datetime(2025, 6, 19, 8, tzinfo=JST),
                                           card_id=w.card)], ADMIN)
    manager = site_managers(w)["site_manager_own"]
    path = f"/v1/sites/{w.site}/missing-exits/resolve"
    body = {"technician_id": w.worker, "work_date": "2025-06-19",
            "exit_at": "2025-06-19T18:30:00+09:00", "reason": "職長が退場を確認"}
    not_on_roster = api.post(path, manager, body | {"technician_id": w.other_worker})
    assert not_on_roster.status_code == 409 and not_on_roster.json()["field"] == "technician_id"
    answered = api.post(path, manager, body)
    assert answered.status_code == 200, answered.text
    LogFollower(api.ledger, store).catch_up()

    [item] = api.request("GET", f"/v1/sites/{w.site}/missing-exits{RANGE}",
                         w.actors()["prime_own"]).json()["items"]
    assert (item["technician_id"], item["last_exit"], item["status"]) == (
        w.worker, None, "counted")
    assert item["exit_resolution"] == {
        "exit_at": "2025-06-19T09:30:00Z", "time_unknown": False, "reason": "職長が退場を確認",
        "resolved_by": f"site_manager:{w.prime}", "resolved_at": "2025-06-20T01:00:00Z",
        "position": answered.json()["position"]}
