"""POST /v1/taps — the contract the gate-reader agent is built against, on both databases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from api.config import ApiSettings
from ledger import clock
from ledger.actors import Actor, Role
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ADMIN,
    PROBLEM_JSON,
    Api,
    World,
    api_fixture,
    api_settings_fixture,
    build_world,
    tap,
)


@pytest.fixture(autouse=True)
def uploaded_on_time(now: clock.FixedClock) -> None:
    """Taps reach the server two minutes after `tap()`'s reader time (07:58), as a reader on
    line sends them: a reader's clock is judged both ways (`tap_flags.CLOCK_SKEW`)."""
    now.at = datetime(2025, 6, 20, 8, 0, tzinfo=clock.JST)


@pytest.fixture
def world(api: Api) -> World:
    return build_world(api.ledger, 1)


@pytest.fixture
def gate(world: World) -> Actor:
    return Actor(Role.READER, world.reader)


def stored_taps(api: Api) -> Counter[str]:
    """tap ID → how many Tap.Recorded events the log holds for it."""
    return Counter(vars(event)["tap_id"] for _, event in api.ledger.iter_log()
                   if type(event).__qualname__ == "Tap.Recorded")


def test_a_batch_is_stored_and_each_tap_answered(api: Api, world: World, gate: Actor) -> None:
    before = api.ledger.log_position()
    response = api.post("/v1/taps", gate, {"taps": [tap(world, n) for n in (1, 2, 3)]})
    assert response.status_code == 200
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["accepted"] * 3
    assert [r["tap_id"] for r in body["results"]] == [f"{world.reader}:{n}" for n in (1, 2, 3)]
    positions = [r["position"] for r in body["results"]]
    assert before < positions[0] < positions[1] < positions[2] <= body["position"]
    assert body["position"] == api.ledger.log_position()  # committed before the answer
    assert all(r["flags"] == [] and r["reason"] is None for r in body["results"])
    assert datetime.fromisoformat(body["server_time"]).tzinfo is not None
    assert stored_taps(api) == {f"{world.reader}:{n}": 1 for n in (1, 2, 3)}


def test_a_retried_batch_is_answered_duplicate_and_stored_once(
    api: Api, world: World, gate: Actor
) -> None:
    batch = {"taps": [tap(world, n) for n in (1, 2)]}
    api.post("/v1/taps", gate, batch)
    retry = api.post("/v1/taps", gate, batch | {"taps": [*batch["taps"], tap(world, 3)]})
    assert [(r["status"], r["position"] is None) for r in retry.json()["results"]] == [
        ("duplicate", True), ("duplicate", True), ("accepted", False)]
    assert set(stored_taps(api).values()) == {1}


def test_a_batch_answers_the_position_that_shows_it(api: Api, world: World, gate: Actor) -> None:
    batch = {"taps": [tap(world, n) for n in (1, 2)]}
    first = api.post("/v1/taps", gate, batch).json()
    assert first["position"] == first["results"][-1]["position"]  # its last tap's
    api.ledger.register_reader("GATE-LATER", world.site, "auto", ADMIN)  # the log moves on
    again = api.post("/v1/taps", gate, batch).json()  # nothing new: the log's head
    assert again["position"] == api.ledger.log_position() > first["position"]


def test_a_tap_repeated_within_a_batch_is_stored_once(api: Api, world: World, gate: Actor) -> None:
    response = api.post("/v1/taps", gate, {"taps": [tap(world, 7), tap(world, 7)]})
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "duplicate"]
    assert stored_taps(api) == {f"{world.reader}:7": 1}


MALFORMED: list[tuple[Any, str]] = [
    ({"reader_time": "yesterday"}, "reader_time: 'yesterday' is not an ISO 8601 date-time"),
    ({"reader_time": "2025-06-20T07:58:00"}, "reader_time: 2025-06-20T07:58:00 has no time zone"),
    ({"tap_id": None}, "tap_id: is missing"),
    ({"tap_id": 12}, "tap_id: 12 is not a tap ID '<reader_id>:<sequence number>'"),
    ({"tap_id": "OTHER-GATE:1"}, "tap_id: must start with '<reader_id>:'"),
    ({"direction": "sideways"}, "direction: 'sideways' is not in, out or unknown"),
    ({"card_id": None}, "card_id: a tap needs a card_id or technician_id"),
    ({"card_id": "not hex"}, "card_id: 'not hex' is not a card ID (4-64 upper-case hex digits)"),
    ({"colour": "red"}, "colour: is not a tap field "
                        "(tap_id, reader_id, card_id, technician_id, direction, reader_time)"),
    ({"reader_time": ["2025"]}, "reader_time: ['2025'] is not a date-time"),
]


MALFORMED_IDS = [f"{reason.split(':')[0]}-{i}" for i, (_, reason) in enumerate(MALFORMED)]


@pytest.mark.parametrize(("change", "reason"), MALFORMED, ids=MALFORMED_IDS)
def test_a_malformed_tap_is_rejected_naming_the_field_and_the_rest_stored(
    api: Api, world: World, gate: Actor, change: dict[str, Any], reason: str
) -> None:
    taps = [tap(world, 1), tap(world, 2, **change), tap(world, 3)]
    response = api.post("/v1/taps", gate, {"taps": taps})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
    assert results[1]["reason"] == reason
    assert results[1]["position"] is None
    assert set(stored_taps(api)) == {f"{world.reader}:1", f"{world.reader}:3"}


def test_a_tap_that_is_not_an_object_is_rejected(api: Api, world: World, gate: Actor) -> None:
    response = api.post("/v1/taps", gate, {"taps": [42, tap(world, 1)]})
    assert [(r["tap_id"], r["status"], r["reason"]) for r in response.json()["results"]] == [
        (None, "rejected", "tap: is not a JSON object"),
        (f"{world.reader}:1", "accepted", None)]


def test_an_empty_batch_is_answered_with_no_results(api: Api, gate: Actor) -> None:
    response = api.post("/v1/taps", gate, {"taps": []})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_reader_may_not_append_another_readers_taps(api: Api, world: World, gate: Actor) -> None:
    foreign = tap(world, 2, tap_id="GATE-X:2", reader_id="GATE-X")
    response = api.post("/v1/taps", gate, {"taps": [tap(world, 1), foreign]})
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert (response.json()["field"], response.json()["rule"]) == ("reader_id", "tap.reader")
    assert stored_taps(api) == {}  # the whole batch is refused


def test_an_unregistered_reader_is_404(api: Api, world: World) -> None:
    ghost = Actor(Role.READER, "GATE-GHOST")
    response = api.post("/v1/taps", ghost, {"taps": [
        tap(world, 1, tap_id="GATE-GHOST:1", reader_id="GATE-GHOST")]})
    assert response.status_code == 404
    assert (response.json()["field"], response.json()["rule"]) == ("reader_id", "reader_id.exists")
    assert stored_taps(api) == {}


def test_a_retired_reader_is_refused_from_the_moment_it_is_retired(
    api: Api, world: World, gate: Actor
) -> None:
    assert api.post("/v1/taps", gate, {"taps": [tap(world, 1)]}).status_code == 200
    prime = Actor(Role.PRIME_CONTRACTOR, world.prime)
    assert api.post(f"/v1/readers/{world.reader}/retire", prime,
                    {"reason": "stolen"}).status_code == 200
    response = api.post("/v1/taps", gate, {"taps": [tap(world, 2)]})
    assert response.status_code == 403
    assert response.json()["rule"] == "reader.retired"
    assert set(stored_taps(api)) == {f"{world.reader}:1"}


@pytest.mark.parametrize("api_settings", [ApiSettings(reader_cache_seconds=3600)])
def test_a_reader_retired_elsewhere_is_trusted_until_the_cache_entry_expires(
    api: Api, world: World, gate: Actor
) -> None:
    """Another process retired it: this one keeps its cached answer (reader_cache_seconds)."""
    api.post("/v1/taps", gate, {"taps": [tap(world, 1)]})
    api.ledger.retire_reader(world.reader, "stolen", ADMIN)
    assert api.post("/v1/taps", gate, {"taps": [tap(world, 2)]}).status_code == 200


@pytest.mark.parametrize("api_settings", [ApiSettings(reader_cache_seconds=0)])
def test_without_a_cache_a_reader_retired_elsewhere_is_refused_at_once(
    api: Api, world: World, gate: Actor
) -> None:
    api.post("/v1/taps", gate, {"taps": [tap(world, 1)]})
    api.ledger.retire_reader(world.reader, "stolen", ADMIN)
    assert api.post("/v1/taps", gate, {"taps": [tap(world, 2)]}).status_code == 403


def test_admin_may_append_taps_of_any_reader_even_unregistered(api: Api, world: World) -> None:
    """Nothing a reader sends is dropped: an import by admin stores taps the read side flags."""
    ghost = tap(world, 1, tap_id="GATE-GHOST:1", reader_id="GATE-GHOST")
    response = api.post("/v1/taps", ADMIN, {"taps": [ghost]})
    result = response.json()["results"][0]
    assert (result["status"], result["flags"]) == ("flagged", ["unregistered_reader"])
    assert result["position"] is not None and stored_taps(api) == {"GATE-GHOST:1": 1}


def test_more_than_5000_taps_are_refused_as_a_whole(api: Api, world: World, gate: Actor) -> None:
    response = api.post("/v1/taps", gate, {"taps": [tap(world, n) for n in range(5001)]})
    assert response.status_code == 422
    assert response.json()["field"] == "taps"
    assert stored_taps(api) == {}


def test_5000_taps_are_stored_in_one_request(api: Api, world: World, gate: Actor) -> None:
    response = api.post("/v1/taps", gate, {"taps": [tap(world, n) for n in range(5000)]})
    assert Counter(r["status"] for r in response.json()["results"]) == {"accepted": 5000}
    assert len(stored_taps(api)) == 5000


def caught_up(api: Api) -> None:
    """Bring the app's read models to the log's head (the registries taps are judged by)."""
    response = api.request("GET", f"/v1/audit/events?min_position={api.ledger.log_position()}",
                           ADMIN)
    assert response.status_code == 200, response.text


def test_taps_of_unknown_and_revoked_cards_are_stored_and_flagged(
    api: Api, world: World, gate: Actor
) -> None:
    api.ledger.issue_card("0BAD0002", world.worker, ADMIN)
    api.ledger.revoke_card("0BAD0002", "lost", ADMIN)
    caught_up(api)
    response = api.post("/v1/taps", gate, {"taps": [
        tap(world, 1), tap(world, 2, card_id="0FFFFFFF"), tap(world, 3, card_id="0BAD0002"),
        tap(world, 4, card_id=None, technician_id=world.worker)]})
    results = response.json()["results"]
    assert [(r["status"], r["flags"]) for r in results] == [
        ("accepted", []), ("flagged", ["unknown_card"]), ("flagged", ["revoked_card"]),
        ("accepted", [])]
    assert all(r["position"] is not None for r in results)  # flagged taps are stored all the same
    assert set(stored_taps(api)) == {f"{world.reader}:{n}" for n in (1, 2, 3, 4)}


def test_a_reader_called_null_is_found_in_the_registry_not_taken_for_sql_null(
    api: Api, world: World
) -> None:
    """Regression: the registry lookup sends IDs as one PostgreSQL array literal. Caught up, the
    reader's registration is in the registry only (the log after it holds none of its events)."""
    api.ledger.register_reader("NULL", world.site, "auto", ADMIN)
    caught_up(api)
    null_tap = tap(world, 1, tap_id="NULL:1", reader_id="NULL")
    response = api.post("/v1/taps", Actor(Role.READER, "NULL"), {"taps": [null_tap]})
    assert [(r["status"], r["flags"]) for r in response.json()["results"]] == [("accepted", [])]


def test_a_tap_from_a_reader_clock_ahead_of_or_behind_the_server_is_flagged(
    api: Api, world: World, gate: Actor, now: clock.FixedClock
) -> None:
    caught_up(api)
    now.at = datetime(2025, 6, 20, 10, 0, tzinfo=clock.JST)
    ahead = tap(world, 1, reader_time="2025-06-20T10:30:00+09:00")  # the server says 10:00
    on_time = tap(world, 2, reader_time="2025-06-20T10:04:00+09:00")  # within 5 minutes
    # Behind: a spooled backlog arrives late and is not flagged; a clock older on arrival than
    # records are kept (3 years, `tap_flags.CLOCK_BEHIND`) is.
    behind = tap(world, 3, reader_time="2022-06-01T09:54:00+09:00")
    backlog = tap(world, 4, reader_time="2025-06-19T09:56:00+09:00")
    results = api.post("/v1/taps", gate, {"taps": [ahead, on_time, behind, backlog]}).json()
    assert [(r["status"], r["flags"]) for r in results["results"]] == [
        ("flagged", ["clock_skew"]), ("accepted", []), ("flagged", ["clock_skew"]),
        ("accepted", [])]


@pytest.mark.parametrize("api_settings", [ApiSettings(projection=False)])
def test_a_card_issued_before_the_projection_reached_it_is_not_flagged(
    api: Api, world: World, gate: Actor
) -> None:
    """The registries lag the log; the ledger is asked about the cards they do not know yet."""
    api.ledger.issue_card("0AB00001", world.worker, ADMIN)
    results = api.post("/v1/taps", gate, {"taps": [
        tap(world, 1, card_id="0AB00001"), tap(world, 2, card_id="0FFFFFFF")]}).json()["results"]
    assert [(r["status"], r["flags"]) for r in results] == [
        ("accepted", []), ("flagged", ["unknown_card"])]


def test_malformed_json_is_a_422_problem_naming_the_body(api: Api, gate: Actor) -> None:
    response = api.client.post("/v1/taps", content=b'{"taps": [',
                               headers={"Authorization": f"Bearer {api.token(gate)}",
                                        "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["field"] == "body"


@pytest.mark.parametrize("api_settings", [ApiSettings(max_body_bytes=1000)])
def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(
    api: Api, world: World, gate: Actor
) -> None:
    big = {"taps": [tap(world, n) for n in range(20)]}
    declared = api.post("/v1/taps", gate, big)
    assert declared.status_code == 413
    assert declared.headers["content-type"] == PROBLEM_JSON
    assert declared.json()["field"] == "body"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server has to count
        yield b'{"taps": ['
        yield b", ".join(b'{"tap_id": "%d"}' % n for n in range(200))
        yield b"]}"

    streamed = api.client.post("/v1/taps", content=chunks(),
                               headers={"Authorization": f"Bearer {api.token(gate)}",
                                        "Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert stored_taps(api) == {}
