"""`POST /v1/phone-taps`, on SQLite and PostgreSQL: a phone's signed tap through the API, with no
API key (the passkey's signature authorises it). Accepted once, a duplicate when sent again,
flagged by the same rule as the site's exceptions list, and refused whole, naming what is wrong,
when the passkey, the signature or the body does not hold."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ledger import clock
from ledger.domain.geo import Area
from tests.api_support import ADMIN, Api, World, api_fixture, api_settings_fixture, build_world  # noqa: F401
from tests.phone_support import SoftPasskey

PATH = "/v1/phone-taps"
HOST = "testserver"  # the test client's host name: the passkey's relying party
OUTSIDE = {"latitude": 35.75, "longitude": 139.85, "accuracy": 8.0}


@pytest.fixture
def world(api: Api) -> World:
    return build_world(api.ledger, 1)


@pytest.fixture
def phone(api: Api, world: World) -> SoftPasskey:
    passkey = SoftPasskey(rp_id=HOST, origin=f"http://{HOST}")
    options = api.ledger.phone_registration_options(world.worker, HOST, ADMIN)
    api.ledger.register_phone(world.worker, passkey.create(options), HOST, f"http://{HOST}",
                              ADMIN)
    return passkey


def body(api: Api, world: World, phone: SoftPasskey, direction: str = "in",
         position: dict[str, float] | None = None) -> dict[str, Any]:
    code = api.ledger.gate_code(world.site, ADMIN)
    scanned_at = clock.now()
    payload, credential = phone.tap(code, direction, scanned_at, position)
    return {"payload": payload, "sent_at": scanned_at.isoformat(), "credential": credential}


def test_a_signed_tap_is_stored_once_and_answered_with_its_site(
        api: Api, world: World, phone: SoftPasskey) -> None:
    sent = body(api, world, phone)
    before = api.ledger.log_position()

    first = api.client.post(PATH, json=sent)
    again = api.client.post(PATH, json=sent)

    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["status"], answer["site_id"], answer["direction"]) == (
        "accepted", world.site, "in")
    assert answer["tap_id"] == json.loads(sent["payload"])["tap_id"]
    assert answer["position"] > before
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["position"] is None
    assert api.ledger.log_position() == answer["position"]  # the second stored nothing


def test_a_tap_outside_the_sites_area_is_stored_and_flagged(
        api: Api, world: World, phone: SoftPasskey) -> None:
    api.ledger.set_site_area(world.site, Area(35.681, 139.767, 300), ADMIN)
    answer = api.client.post(PATH, json=body(api, world, phone, position=OUTSIDE))
    assert answer.status_code == 200, answer.text
    assert "outside_area" in answer.json()["flags"]


@pytest.mark.parametrize(("spoil", "status", "field"), [
    (lambda b: {**b, "payload": b["payload"].replace('"in"', '"out"')}, 403, "credential"),
    (lambda b: {**b, "credential": {**b["credential"], "rawId": "AAAA", "id": "AAAA"}}, 404,
     "credential_id"),
    (lambda b: {**b, "sent_at": "yesterday"}, 422, "sent_at"),
    (lambda b: {**b, "payload": 5}, 422, "payload"),
    (lambda b: {**b, "payload": "x" * 2_001}, 422, "payload"),
    (lambda b: {**b, "extra": 1}, 422, "extra"),
])
def test_a_tap_that_does_not_hold_is_refused_naming_what_and_stores_nothing(
        api: Api, world: World, phone: SoftPasskey, spoil: Any, status: int, field: str) -> None:
    before = api.ledger.log_position()
    answer = api.client.post(PATH, json=spoil(body(api, world, phone)))
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in answer.text
    assert api.ledger.log_position() == before
