"""/metrics: Prometheus's text format, served without a key, aggregate figures only (no worker
or site ID anywhere in it), on both databases."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ledger import clock
from ledger.actors import Actor, Role
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ADMIN,
    Api,
    World,
    api_fixture,
    api_settings_fixture,
    build_world,
    tap,
)


@pytest.fixture(autouse=True)
def uploaded_on_time(now: clock.FixedClock) -> None:
    now.at = datetime(2025, 6, 20, 8, 0, tzinfo=clock.JST)


def scrape(api: Api) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    response = api.client.get("/metrics")  # no key
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(response.text)
               for s in family.samples}
    return response.text, samples


def taps_counted(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float],
                 outcome: str) -> float:
    return samples.get(("ledger_taps_total", (("outcome", outcome),)), 0.0)


def test_metrics_count_taps_by_outcome_and_requests_by_route_without_ids(api: Api) -> None:
    world: World = build_world(api.ledger, 1)
    gate = Actor(Role.READER, world.reader)
    _, before = scrape(api)
    api.post("/v1/taps", gate, {"taps": [tap(world, 1), tap(world, 2)]})
    api.post("/v1/taps", gate, {"taps": [tap(world, 1), tap(world, 3, reader_time="nope"),
                                         tap(world, 2, direction="out")]})
    records = api.request("GET", f"/v1/workers/{world.worker}/records"
                          "?date_from=2025-06-01&date_to=2025-06-30", ADMIN)
    assert records.status_code == 200
    text, after = scrape(api)

    for outcome, added in (("accepted", 2), ("duplicate", 1), ("rejected", 1), ("conflict", 1)):
        assert taps_counted(after, outcome) - taps_counted(before, outcome) == added, outcome
    route = (("method", "GET"), ("route", "/v1/workers/{technician_id}/records"),
             ("status", "200"))
    assert after[("ledger_http_request_duration_seconds_count", route)] >= 1
    assert after[("ledger_http_request_duration_seconds_count", (
        ("method", "POST"), ("route", "/v1/taps"), ("status", "200")))] >= 2

    # The database's figures: the log's head and the projection, quarantine, jobs, seal.
    position = float(api.ledger.log_position())
    assert after[("ledger_log_position", ())] == position
    assert after[("ledger_projection_position", ())] <= position
    assert after[("ledger_projection_lag_events", ())] == (
        position - after[("ledger_projection_position", ())])
    assert after[("ledger_quarantined_events", ())] == 0

    # No ID of a worker, site, reader, card or business in any name or label (a sample's value
    # is a number and may hold the same digits, e.g. 11003.0 for a business 1100).
    described = [line if line.startswith("#") else line.rsplit(" ", 1)[0]
                 for line in text.splitlines()]
    for identifier in (world.worker, world.site, world.reader, world.card, world.prime):
        assert not [line for line in described if identifier in line], identifier
    labels = [value for (_, pairs) in after for _, value in pairs]
    assert labels and not any(re.search(r"\d{6,}", value) for value in labels)


def test_a_path_that_matches_no_route_is_labelled_unmatched(api: Api) -> None:
    api.client.get("/v1/nothing/12345678901234")
    text, samples = scrape(api)
    assert "12345678901234" not in text
    assert samples[("ledger_http_request_duration_seconds_count", (
        ("method", "GET"), ("route", "unmatched"), ("status", "404")))] >= 1
