"""Keys through the API (/v1/keys), on both databases: each key shown once and stored hashed,
with an expiry; a key issues keys of equal or lower power within its own scope only; every
issue, expiry and revocation is recorded and readable by auditors; hidden key IDs answer as
absent; bad input is a 422 naming the field, and nothing is written.

The world is tests/api_read_support.py's: prime_a with site_a (sub_a, lower_a under it), prime_b
with site_b (sub_b); the clock stands at 2025-06-20 10:00 JST.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest

from ledger import clock
from ledger.actors import Actor, Role, Scope
from ledger.storage.keys import split_token
from tests.api_read_support import (  # noqa: F401  (read_api_fixture is a fixture)
    NOW,
    ReadWorld,
    read_api_fixture,
)
from tests.api_support import ADMIN, AUDITOR, PROBLEM_JSON, Api

EXPIRES = "2025-12-31T23:59:59+09:00"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(api: Api, token: str, **body: Any) -> httpx.Response:
    return api.client.post("/v1/keys", json={"expires_at": EXPIRES, **body},
                           headers=bearer(token))


def issued(api: Api, token: str, **body: Any) -> dict[str, Any]:
    response = issue(api, token, **body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def caught_up(api: Api, world: ReadWorld) -> None:
    """Scopes are checked against the read models: wait until they hold the world."""
    head = api.ledger.log_position()
    response = api.request("GET", f"/v1/sites/{world.site_a}/on-site-now?min_position={head}",
                           ADMIN)
    assert response.status_code == 200, response.text


def key_rows(api: Api) -> tuple[int, int]:
    return len(api.keys.list()), len(api.keys.events())


def refused(response: httpx.Response, status: int, field: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    if status == 401:
        assert response.json()["type"] == "urn:ccus-ledger:problem:unauthenticated"
        return
    assert response.json()["field"] == field, response.json()


@pytest.fixture(name="prime_token")
def prime_token_fixture(read_api: tuple[Api, ReadWorld]) -> str:
    """prime_a's 事業者責任者 key, issued by an admin through the API."""
    api, world = read_api
    caught_up(api, world)
    answer = issued(api, api.token(ADMIN), role="prime_contractor", subject_id=world.prime_a,
                    holder="元請 責任者")
    return str(answer["token"])


def test_a_key_is_shown_once_stored_hashed_and_expires(
        read_api: tuple[Api, ReadWorld], prime_token: str) -> None:
    api, world = read_api
    parts = split_token(prime_token)
    assert parts is not None
    key_id, secret = parts
    listed = api.client.get("/v1/keys", headers=bearer(api.token(ADMIN))).json()["items"]
    mine = [key for key in listed if key["key_id"] == key_id]
    assert len(mine) == 1 and "token" not in mine[0]
    assert mine[0]["expires_at"] is not None and mine[0]["status"] == "active"
    assert mine[0]["issued_by"] is not None and mine[0]["holder"] == "元請 責任者"
    stored = api.keys._execute("SELECT token_hash FROM api_keys WHERE key_id = %s", (key_id,))
    assert stored == [(hashlib.sha256(secret.encode()).hexdigest(),)]
    assert prime_token not in str(api.keys._execute("SELECT * FROM api_keys"))
    # The key works until its expiry, and is refused from then on.
    path = f"/v1/sites/{world.site_a}/on-site-now"
    assert api.client.get(path, headers=bearer(prime_token)).status_code == 200
    with clock.clock_at(NOW + timedelta(days=200)):
        refused(api.client.get(path, headers=bearer(prime_token)), 401, "authorization")


def test_a_business_key_issues_lower_keys_within_its_business_only(
        read_api: tuple[Api, ReadWorld], prime_token: str) -> None:
    api, world = read_api
    before = key_rows(api)
    refused(issue(api, prime_token, role="admin", subject_id="boss"), 403, "role")
    refused(issue(api, prime_token, role="prime_contractor", subject_id=world.prime_b),
            403, "subject_id")
    refused(issue(api, prime_token, role="worker", subject_id=world.worker), 403, "role")
    refused(issue(api, prime_token, role="site_manager", subject_id=world.prime_a,
                  scope={"sites": [world.site_b]}), 422, "scope.sites")
    refused(issue(api, prime_token, role="prime_contractor", subject_id=world.prime_a,
                  expires_at="2031-01-01T00:00:00+09:00"), 422, "expires_at")
    assert key_rows(api) == before, "nothing is written for a refused key"
    # A 管理者 scoped to site_a issues within site_a only, and never a wider key.
    admin_of_site = issued(api, prime_token, role="prime_contractor", subject_id=world.prime_a,
                           scope={"sites": [world.site_a]})
    scoped = str(admin_of_site["token"])
    assert admin_of_site["scope"] == {"sites": [world.site_a], "workers": None,
                                      "approves": False}
    refused(issue(api, scoped, role="prime_contractor", subject_id=world.prime_a), 403, "scope")
    refused(issue(api, scoped, role="employer", subject_id=world.prime_a,
                  scope={"workers": [world.worker]}), 403, "scope")
    manager = issued(api, scoped, role="site_manager", subject_id=world.prime_a,
                     scope={"sites": [world.site_a], "approves": True})
    assert manager["role"] == "site_manager" and manager["issued_by"] == admin_of_site["key_id"]
    # A site manager issues nothing; an employer grants no approval.
    refused(issue(api, str(manager["token"]), role="site_manager", subject_id=world.prime_a,
                  scope={"sites": [world.site_a]}), 403, "actor")
    sub = Actor(Role.EMPLOYER, world.sub_a)
    refused(issue(api, api.token(sub), role="site_manager", subject_id=world.sub_a,
                  scope={"sites": [world.site_a], "approves": True}), 403, "scope.approves")


def test_keys_are_listed_expired_and_revoked_within_scope_and_hidden_ids_are_absent(
        read_api: tuple[Api, ReadWorld], prime_token: str) -> None:
    api, world = read_api
    other_prime = api.token(Actor(Role.PRIME_CONTRACTOR, world.prime_b))
    theirs = issued(api, other_prime, role="employer", subject_id=world.prime_b)
    ours = issued(api, prime_token, role="employer", subject_id=world.prime_a)
    listed = {k["key_id"] for k in
              api.client.get("/v1/keys", headers=bearer(prime_token)).json()["items"]}
    assert ours["key_id"] in listed and theirs["key_id"] not in listed
    assert all(api.keys.get(k).subject_id == world.prime_a for k in listed)
    absent = "00000000deadbeef"
    for verb in ("revoke", "expire"):
        hidden = api.client.post(f"/v1/keys/{theirs['key_id']}/{verb}",
                                 headers=bearer(prime_token))
        nothing = api.client.post(f"/v1/keys/{absent}/{verb}", headers=bearer(prime_token))
        assert hidden.status_code == nothing.status_code == 404
        assert hidden.json()["field"] == nothing.json()["field"] == "key_id"
    assert api.client.get(f"/v1/keys/{theirs['key_id']}",
                          headers=bearer(prime_token)).status_code == 404
    assert api.keys.get(theirs["key_id"]).status(clock.now()) == "active"
    # Expire one key and revoke another: each is refused on its next request.
    ours_too = issued(api, prime_token, role="employer", subject_id=world.prime_a)
    path = f"/v1/sites/{world.site_a}/on-site-now"
    for key, verb in ((ours, "expire"), (ours_too, "revoke")):
        assert api.client.get(path, headers=bearer(key["token"])).status_code == 200
        answer = api.client.post(f"/v1/keys/{key['key_id']}/{verb}", headers=bearer(prime_token))
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == f"{verb}d"
        refused(api.client.get(path, headers=bearer(key["token"])), 401, "authorization")
        again = api.client.post(f"/v1/keys/{key['key_id']}/{verb}", headers=bearer(prime_token))
        assert again.status_code == 409, again.text
    # Auditors read every key event (who, when, which key); the read itself is logged.
    events = api.client.get("/v1/keys/events", headers=bearer(api.token(AUDITOR)))
    assert events.status_code == 200, events.text
    prime_key_id = split_token(prime_token)[0]  # type: ignore[index]
    kinds = {(e["key_id"], e["kind"]): e for e in events.json()["items"]}
    assert kinds[(ours["key_id"], "issued")]["by_key_id"] == prime_key_id
    assert kinds[(ours["key_id"], "expired")]["actor"] == f"prime_contractor:{world.prime_a}"
    assert kinds[(ours_too["key_id"], "revoked")]["by_key_id"] == prime_key_id
    assert kinds[(theirs["key_id"], "issued")]["actor"] == f"prime_contractor:{world.prime_b}"
    assert any(read.path == "/v1/keys/events" and read.actor == str(AUDITOR)
               for read in api.app.state.audit_reads.recent())
    # A business reads the events of its own keys only.
    own_events = api.client.get("/v1/keys/events", headers=bearer(prime_token)).json()["items"]
    assert {e["key_id"] for e in own_events} >= {ours["key_id"], ours_too["key_id"]}
    assert theirs["key_id"] not in {e["key_id"] for e in own_events}


@pytest.mark.parametrize(("body", "field"), [
    ({"role": "boss", "subject_id": "x"}, "role"),
    ({"role": "employer", "subject_id": "x"}, "subject_id"),
    ({"role": "employer", "subject_id": "{prime_a}", "expires_at": "2025-01-01T00:00:00+09:00"},
     "expires_at"),
    ({"role": "employer", "subject_id": "{prime_a}", "expires_at": "2025-12-31T00:00:00"},
     "expires_at"),
    ({"role": "employer", "subject_id": "{prime_a}", "scope": {"sites": ["12"]}},
     "scope.sites.0"),
    ({"role": "employer", "subject_id": "{prime_a}",
      "scope": {"sites": ["{site_a}"], "workers": ["{worker}"]}}, "scope"),
    ({"role": "site_manager", "subject_id": "{prime_a}"}, "scope.sites"),
    ({"role": "employer", "subject_id": "{prime_a}", "scope": {"workers": ["{other_worker}"]}},
     "scope.workers"),
    ({"role": "worker", "subject_id": "{worker}", "scope": {"sites": ["{site_a}"]}}, "scope"),
    ({"role": "employer", "subject_id": "{prime_a}", "scope": {"sites": []}}, "scope.sites"),
    ({"role": "employer", "subject_id": "{prime_a}", "color": "red"}, "color"),
], ids=["role", "subject-format", "expired", "naive-expiry", "site-format", "two-kinds",
        "manager-without-sites", "not-its-worker", "worker-scoped", "empty-scope", "unknown"])
def test_bad_key_requests_are_422_naming_the_field_and_write_nothing(
        read_api: tuple[Api, ReadWorld], body: dict[str, Any], field: str) -> None:
    api, world = read_api
    caught_up(api, world)
    names = world.__dict__

    def filled(value: Any) -> Any:
        if isinstance(value, str):
            return value.format(**names)
        if isinstance(value, list):
            return [filled(v) for v in value]
        if isinstance(value, dict):
            return {k: filled(v) for k, v in value.items()}
        return value

    before = key_rows(api)
    refused(issue(api, api.token(ADMIN), **filled(body)), 422, field)
    assert key_rows(api) == before


def test_a_malformed_key_id_is_422(read_api: tuple[Api, ReadWorld]) -> None:
    api, _ = read_api
    refused(api.client.post("/v1/keys/NOT-A-KEY/revoke", headers=bearer(api.token(ADMIN))),
            422, "key_id")


def test_a_scoped_key_writes_within_its_scope_only(read_api: tuple[Api, ReadWorld]) -> None:
    api, world = read_api
    caught_up(api, world)
    site_admin = Actor(Role.EMPLOYER, world.sub_a, Scope(sites=frozenset({world.site_a})))
    before = api.ledger.log_position()
    outside = api.request("PUT", f"/v1/sites/{world.site_b}/roster/{world.worker}", site_admin,
                          {"employer_business_id": world.sub_a, "trade": "鉄筋",
                           "position": "一般", "since": "2025-06-01"})
    absent = api.request("PUT", f"/v1/sites/99991000000009/roster/{world.worker}", site_admin,
                         {"employer_business_id": world.sub_a, "trade": "鉄筋",
                          "position": "一般", "since": "2025-06-01"})
    assert outside.status_code == absent.status_code == 404, outside.text
    assert outside.json()["field"] == absent.json()["field"] == "site_id"
    no_site = api.request("POST", "/v1/workers", site_admin,
                          {"technician_id": "99991234567890", "name": "新人"})
    refused(no_site, 403, "actor")
    worker_admin = Actor(Role.EMPLOYER, world.sub_b, Scope(workers=frozenset({world.other_worker})))
    refused(api.request("POST", f"/v1/workers/{world.worker}/employments/{world.sub_b}/end",
                        worker_admin, {"until": "2025-06-19"}), 404, "technician_id")
    assert api.ledger.log_position() == before, "nothing is written"


def test_a_site_manager_registers_readers_and_decides_only_where_granted(
        read_api: tuple[Api, ReadWorld]) -> None:
    """現場管理者 (DESIGN §2): may not enter manual entries; approves only if the prime grants
    it; registers its own sites' readers; every event names it as the site manager."""
    api, world = read_api
    caught_up(api, world)
    sites = frozenset({world.site_a})
    manager = Actor(Role.SITE_MANAGER, world.prime_a, Scope(sites=sites))
    granted = Actor(Role.SITE_MANAGER, world.prime_a, Scope(sites=sites, approves=True))
    entry_a, entry_b = world.entries
    before = api.ledger.log_position()
    refused(api.post(f"/v1/manual-entries/{entry_a}/approve", manager), 403, "actor")
    refused(api.post("/v1/manual-entries", manager, {
        "technician_id": world.worker, "site_id": world.site_a, "work_date": "2025-06-19",
        "employer_business_id": world.sub_a, "trade": "鉄筋", "position": "一般",
        "work_content": "配筋"}), 403, "actor")
    refused(api.post(f"/v1/sites/{world.site_a}/close", manager, {"closed_on": "2025-06-30"}),
            403, "actor")
    refused(api.post("/v1/readers", manager, {"reader_id": "GATEX9", "site_id": world.site_b}),
            404, "site_id")
    refused(api.post(f"/v1/manual-entries/{entry_b}/approve", granted), 404, "site_id")
    assert api.ledger.log_position() == before, "nothing is written"

    registered = api.post("/v1/readers", manager, {"reader_id": "GATEX1", "site_id": world.site_a})
    assert registered.status_code == 201, registered.text
    approved = api.post(f"/v1/manual-entries/{entry_a}/approve", granted)
    assert approved.status_code == 200, approved.text
    actors = {position: str(vars(event)["actor"]) for position, event in api.ledger.iter_log()}
    assert actors[registered.json()["position"]] == f"site_manager:{world.prime_a}"
    assert actors[approved.json()["position"]] == f"site_manager:{world.prime_a}"


def test_the_prime_and_its_site_manager_issue_keys_for_their_sites_readers(
        read_api: tuple[Api, ReadWorld], prime_token: str) -> None:
    """A gate reader's key comes from the prime of the reader's site (its whole-business key or
    a key scoped to that site) or the prime's site manager of that site; a reader of another
    site, registered or not, is refused alike, and nothing is written."""
    api, world = read_api
    manager = api.token(Actor(Role.SITE_MANAGER, world.prime_a,
                              Scope(sites=frozenset({world.site_a}))))
    other_manager = api.token(Actor(Role.SITE_MANAGER, world.prime_a,
                                    Scope(sites=frozenset({world.site_b}))))
    scoped_to_b = api.token(Actor(Role.PRIME_CONTRACTOR, world.prime_a,
                                  Scope(sites=frozenset({world.site_b}))))
    before = key_rows(api)
    refusals = [issue(api, token, role="reader", subject_id=reader)
                for token in (prime_token, manager)
                for reader in (world.reader_b, "GATENOWHERE")]
    assert {(r.status_code, r.json()["field"], r.json()["rule"]) for r in refusals} == {
        (422, "subject_id", "key.reader")}
    assert len({r.text.replace(world.reader_b, "<id>").replace("GATENOWHERE", "<id>")
                for r in refusals}) == 1, "another site's reader answers as an absent one"
    for token in (other_manager, scoped_to_b):
        refused(issue(api, token, role="reader", subject_id=world.reader_a), 422, "subject_id")
    refused(issue(api, api.token(Actor(Role.EMPLOYER, world.sub_a)), role="reader",
                  subject_id=world.reader_a), 403, "role")
    refused(issue(api, manager, role="employer", subject_id=world.prime_a), 403, "actor")
    assert key_rows(api) == before, "nothing is written for a refused key"

    by_prime = issued(api, prime_token, role="reader", subject_id=world.reader_a)
    by_manager = issued(api, manager, role="reader", subject_id=world.reader_a)
    # the reader key works: the reader uploads its taps
    tap = {"tap_id": f"{world.reader_a}:900", "reader_id": world.reader_a, "card_id": "0CABCDEF",
           "direction": "in", "reader_time": "2025-06-20T09:58:00+09:00"}
    uploaded = api.client.post("/v1/taps", json={"taps": [tap]},
                               headers=bearer(by_manager["token"]))
    assert uploaded.status_code == 200, uploaded.text
    # the site manager oversees its site's reader keys, and no other key of the prime
    listed = {k["key_id"] for k in api.client.get(
        "/v1/keys", headers=bearer(manager)).json()["items"]}
    assert {by_prime["key_id"], by_manager["key_id"]} <= listed
    assert {api.keys.get(k).role for k in listed} == {Role.READER}
    assert api.client.get(f"/v1/keys/{by_prime['key_id']}",
                          headers=bearer(other_manager)).status_code == 404
    revoked = api.client.post(f"/v1/keys/{by_prime['key_id']}/revoke", headers=bearer(manager))
    assert revoked.status_code == 200, revoked.text
    # a retired reader gets no new key, though its keys can still be ended
    api.ledger.retire_reader(world.reader_b, "replaced", Actor(Role.PRIME_CONTRACTOR,
                                                                world.prime_b))
    caught_up(api, world)
    other_prime = api.token(Actor(Role.PRIME_CONTRACTOR, world.prime_b))
    refused(issue(api, other_prime, role="reader", subject_id=world.reader_b), 422,
            "subject_id")


def test_key_lists_are_paged(read_api: tuple[Api, ReadWorld], prime_token: str) -> None:
    api, world = read_api
    for _ in range(3):
        issued(api, prime_token, role="employer", subject_id=world.prime_a)
    for path in ("/v1/keys", "/v1/keys/events"):
        whole = api.client.get(path, headers=bearer(prime_token)).json()
        assert whole["next_cursor"] is None and len(whole["items"]) >= 4
        paged: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            page = api.client.get(path, params=params, headers=bearer(prime_token))
            assert page.status_code == 200, page.text
            assert len(page.json()["items"]) == 1
            paged += page.json()["items"]
            if not (cursor := page.json()["next_cursor"]):
                break
        assert paged == whole["items"]
    wrong = api.client.get("/v1/keys", params={"cursor": "bm90LWEtY3Vyc29y"},
                           headers=bearer(prime_token))
    refused(wrong, 422, "cursor")


def test_every_key_endpoint_is_tested_here(read_api: tuple[Api, ReadWorld]) -> None:
    """Key writes store no event, so they are tested here rather than in the write matrix."""
    api, _ = read_api
    documented = {(method.upper(), path) for path, item in api.app.openapi()["paths"].items()
                  for method in item if path.startswith("/v1/keys")}
    assert documented == {("POST", "/v1/keys"), ("GET", "/v1/keys"), ("GET", "/v1/keys/events"),
                          ("GET", "/v1/keys/{key_id}"), ("POST", "/v1/keys/{key_id}/expire"),
                          ("POST", "/v1/keys/{key_id}/revoke")}


def test_only_admin_issues_an_orderer_key_and_it_issues_none(
        read_api: tuple[Api, ReadWorld], prime_token: str) -> None:
    """発注者 (Issue 17): another organisation than the prime, so no business key speaks for
    it; its key takes no scope (its sites are those whose terms name it) and issues nothing."""
    api, world = read_api
    before = key_rows(api)
    refused(issue(api, prime_token, role="orderer", subject_id=world.orderer_a), 403, "role")
    refused(issue(api, api.token(ADMIN), role="orderer", subject_id=world.orderer_a,
                  scope={"sites": [world.site_a]}), 422, "scope")
    assert key_rows(api) == before
    orderer = issued(api, api.token(ADMIN), role="orderer", subject_id=world.orderer_a)
    assert orderer["role"] == "orderer" and orderer["subject_id"] == world.orderer_a
    refused(issue(api, str(orderer["token"]), role="orderer", subject_id=world.orderer_a),
            403, "actor")
    sites = api.client.get(f"/v1/orderers/{world.orderer_a}/sites?min_position="
                           f"{api.ledger.log_position()}", headers=bearer(str(orderer["token"])))
    assert [s["site_id"] for s in sites.json()["items"]] == [world.site_a]
