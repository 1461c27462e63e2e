"""Privacy while active (DESIGN §2), on both databases: a prime reads a worker's records on its
own sites while the site is active with the worker on its roster. Once site_a is closed (on
2025-06-20, read on 06-21): prime_a reads none of the worker's records, and on site_a's rows
only its own workers'; each subcontractor its own; the site's settlement totals by employer stay
with prime_a; the decision pending on site_a stays in prime_a's inbox; prime_b, whose site is
still active, is unchanged; and site_a's site manager reads nothing of it any more.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledger import clock
from ledger.actors import Actor, Role, Scope
from tests.api_read_support import (  # noqa: F401  (read_api_fixture is a fixture)
    D1,
    MONTH,
    NOW,
    RANGE_QUERY,
    TODAY,
    ReadWorld,
    read_api_fixture,
)
from tests.api_support import Api


def read(api: Api, path: str, actor: Actor, position: int) -> tuple[int, Any]:
    glue = "&" if "?" in path else "?"
    response = api.request("GET", f"{path}{glue}min_position={position}", actor)
    return response.status_code, response.json()


def test_a_closed_sites_records_leave_the_prime_its_figures_and_pending_decisions_stay(
        read_api: tuple[Api, ReadWorld]) -> None:
    api, w = read_api
    prime_a, prime_b = Actor(Role.PRIME_CONTRACTOR, w.prime_a), Actor(Role.PRIME_CONTRACTOR,
                                                                      w.prime_b)
    sub_a = Actor(Role.EMPLOYER, w.sub_a)
    manager = Actor(Role.SITE_MANAGER, w.prime_a, Scope(sites=frozenset({w.site_a})))
    records = f"/v1/workers/{w.worker}/records{RANGE_QUERY}"
    attendance = f"/v1/sites/{w.site_a}/attendance?work_date={D1}"
    kentaikyo = f"/v1/sites/{w.site_a}/kentaikyo?month={MONTH}"
    head = api.ledger.log_position()

    # While site_a is active, prime_a reads the worker's records there and all its rows.
    status, active = read(api, records, prime_a, head)
    assert status == 200 and {r["site_id"] for r in active["items"]} == {w.site_a}
    status, rows = read(api, attendance, prime_a, head)
    assert status == 200 and {r["technician_id"] for r in rows["items"]} == {
        w.worker, w.lower_worker}
    status, settled = read(api, kentaikyo, prime_a, head)
    assert status == 200
    totals_while_active = settled["by_employer"]
    assert any(t["eligible_days"] > 0 for t in totals_while_active)

    api.ledger.close_site(w.site_a, TODAY, prime_a)
    head = api.ledger.log_position()
    with clock.clock_at(NOW + timedelta(days=1)):
        assert read(api, records, prime_a, head)[0] == 404
        status, closed = read(api, attendance, prime_a, head)
        assert status == 200 and closed["items"] == [] and closed["headcount"] == 0
        status, own = read(api, attendance, sub_a, head)
        assert status == 200 and {r["technician_id"] for r in own["items"]} == {w.worker}
        status, settled = read(api, kentaikyo, prime_a, head)
        assert status == 200 and settled["items"] == []
        assert settled["by_employer"] == totals_while_active
        status, inbox = read(api, f"/v1/primes/{w.prime_a}/inbox", prime_a, head)
        assert status == 200 and {r["site_id"] for r in inbox["items"]} == {w.site_a}
        status, theirs = read(api, records, prime_b, head)
        assert status == 200 and {r["site_id"] for r in theirs["items"]} == {w.site_b}
        assert read(api, attendance, manager, head)[0] == 404
        status, mine = read(api, records, Actor(Role.WORKER, w.worker), head)
        assert status == 200 and {r["site_id"] for r in mine["items"]} == {w.site_a, w.site_b}
