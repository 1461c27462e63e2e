"""End to end: a real `ledger serve` on PostgreSQL. A reader uploads the taps of a card in no
registry; they are flagged unknown_card and count for no one. The site's prime assigns the card to
a worker on its roster over HTTP; the served projection then gives the worker the day: their
records, career and the record's audit trail (which names the decision) say so over HTTP, and the
site's exceptions list shows the taps resolved by that decision.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_api_server import (  # noqa: F401  (env_fixture is a fixture)
    READER,
    SITE,
    TECHNICIAN,
    bearer,
    client_of,
    env_fixture,
    serving,
    set_up_a_site,
)
from tests.e2e.test_quarantine_served import eventually

pytestmark = pytest.mark.slow
STRAY = "DEADBEEF"  # a spare card the worker tapped, in no registry
JUNE = "date_from=2025-06-01&date_to=2025-06-30"
REASON = "名簿の顔写真と照合"


def stray_taps() -> list[dict[str, Any]]:
    return [{"tap_id": f"{READER}:{900 + n}", "reader_id": READER, "card_id": STRAY,
             "technician_id": None, "direction": direction,
             "reader_time": f"2025-06-18T{hour}:00:00+09:00"}
            for n, (direction, hour) in enumerate((("in", "08"), ("out", "17")))]


def test_an_unknown_card_assigned_over_http_gives_the_worker_the_day(
    env: dict[str, str], postgres_url: str, tmp_path: Path
) -> None:
    with serving(env, tmp_path / "server.log") as server, client_of(server) as client:
        parties = set_up_a_site(env, server.url)
        prime, worker = bearer(parties.prime), bearer(parties.worker)
        sent = client.post("/v1/taps", json={"taps": stray_taps()},
                           headers=bearer(parties.reader)).json()
        assert [(r["status"], r["flags"]) for r in sent["results"]] == [
            ("flagged", ["unknown_card"])] * 2, sent  # stored, counted for no one

        def items(path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
            listed = client.get(f"{path}?{JUNE}", headers=headers)
            assert listed.status_code == 200, listed.text
            return list(listed.json()["items"])

        def exceptions() -> list[dict[str, Any]]:
            return items(f"/v1/sites/{SITE}/exceptions", prime)

        def worker_records() -> list[dict[str, Any]]:
            return items(f"/v1/workers/{TECHNICIAN}/records", worker)

        def exceptions_once_projected() -> int:
            """-1 while the projection has not reached the site (its reads answer 404 till then)."""
            listed = client.get(f"/v1/sites/{SITE}/exceptions?{JUNE}", headers=prime)
            return len(listed.json()["items"]) if listed.status_code == 200 else -1

        eventually(lambda: exceptions_once_projected() == 2)
        assert all(e["resolution"] is None and e["card_id"] == STRAY for e in exceptions())
        assert worker_records() == []

        assigned = client.post(f"/v1/sites/{SITE}/unknown-cards/{STRAY}/assign", headers=prime,
                               json={"technician_id": TECHNICIAN, "tap_id": f"{READER}:900",
                                     "reason": REASON})
        assert assigned.status_code == 200, assigned.text
        decision = assigned.json()["position"]

        eventually(lambda: len(worker_records()) == 1)
        [record] = worker_records()
        assert (record["site_id"], record["work_date"], record["status"], record["source"],
                record["employer_business_id"], record["trade"], record["minutes_on_site"]) == (
            SITE, "2025-06-18", "counted", "card", "200", "鉄筋", 540)
        tap_positions = {e["position"] for e in exceptions()}
        assert set(record["event_positions"]) == tap_positions | {decision}

        career = client.get(f"/v1/workers/{TECHNICIAN}/career?{JUNE}", headers=worker)
        assert career.status_code == 200, career.text
        assert (career.json()["work_days"], career.json()["record_count"]) == (1, 1)

        trail = client.get(f"/v1/audit/work-records/{TECHNICIAN}/{SITE}/2025-06-18/events",
                           headers=worker)
        assert trail.status_code == 200, trail.text
        assert [(e["position"], e["event_type"], e["actor"], e["reason"])
                for e in trail.json()["items"]][-1] == (
            decision, "Site.UnknownCardAssigned", "prime_contractor:100", REASON)

        resolved = exceptions()
        assert len(resolved) == 2
        for exception in resolved:
            assert exception["resolved_by"] == "prime_contractor:100"
            assert exception["resolution"] == {
                "kind": "card_assigned", "technician_id": TECHNICIAN,
                "tap_id": f"{READER}:900", "reason": REASON, "position": decision}
