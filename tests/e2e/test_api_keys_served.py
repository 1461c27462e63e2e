"""End to end, keys: over a real `ledger serve` on PostgreSQL, an admin key from the command line
issues a prime's key through the API; the prime issues its site manager's key for its site; the
site manager reads that site and nothing else, and issues the site's gate reader a key; the
prime lists its keys (never a token; page by page the same), revokes the site manager's key and
expires another, each refused on its next request; an auditor reads every issue, expiry and
revocation.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger import clock
from tests.e2e.test_api_server import (  # noqa: F401  (env is a fixture)
    READER,
    SITE,
    bearer,
    client_of,
    env_fixture,
    new_token,
    serving,
    set_up_a_site,
)

pytestmark = pytest.mark.slow


def issued(client: httpx.Client, token: str, days: int = 30, **body: Any) -> dict[str, Any]:
    """A key expiring in `days` (a key may not outlive the key that issues it)."""
    expires_at = (clock.now() + timedelta(days=days)).isoformat()
    response = client.post("/v1/keys", json={"expires_at": expires_at, **body},
                           headers=bearer(token))
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    assert answer["token"].startswith(f"ldg_{answer['key_id']}_")
    return answer


def test_keys_issued_listed_revoked_and_expired_over_http(
    env: dict[str, str], tmp_path: Path
) -> None:
    with serving(env, tmp_path / "server.log") as server, client_of(server) as client:
        parties = set_up_a_site(env, server.url)
        auditor = new_token(env, "--role", "auditor", "--name", "監査")
        prime = issued(client, parties.admin, days=60, role="prime_contractor", subject_id="100",
                       holder="元請 責任者")
        manager = issued(client, prime["token"], role="site_manager", subject_id="100",
                         holder="現場 所長", scope={"sites": [SITE]})
        clerk = issued(client, prime["token"], role="employer", subject_id="100",
                       scope={"sites": [SITE]})
        refused = client.post("/v1/keys", headers=bearer(prime["token"]), json={
            "role": "admin", "subject_id": "boss",
            "expires_at": (clock.now() + timedelta(days=1)).isoformat()})
        assert refused.status_code == 403 and refused.json()["field"] == "role", refused.text

        head = client.get("/v1/ready").json()["log_position"]
        site_read = client.get(f"/v1/sites/{SITE}/on-site-now", params={"min_position": head},
                               headers=bearer(manager["token"]))
        assert site_read.status_code == 200, site_read.text
        elsewhere = client.get("/v1/sites/10000000000099/on-site-now",
                               headers=bearer(manager["token"]))
        assert elsewhere.status_code == 404, elsewhere.text
        career = client.get("/v1/workers/12345678901234/career", headers=bearer(
            manager["token"]), params={"date_from": "2025-01-01", "date_to": "2025-12-31"})
        assert career.status_code == 403, career.text

        gate = issued(client, manager["token"], days=20, role="reader", subject_id=READER)
        listed = client.get("/v1/keys", headers=bearer(prime["token"]))
        assert listed.status_code == 200, listed.text
        ids = {key["key_id"] for key in listed.json()["items"]}
        bootstrap = parties.prime.split("_")[1]  # business 100's key from the command line
        assert ids >= {bootstrap, prime["key_id"], manager["key_id"], clerk["key_id"],
                       gate["key_id"]}
        assert all(key["subject_id"] in ("100", READER) for key in listed.json()["items"])
        assert "ldg_" not in listed.text, "a token is shown once only"
        pages, cursor = [], None
        while True:
            page = client.get("/v1/keys", params={"limit": 2, **(
                {"cursor": cursor} if cursor else {})}, headers=bearer(prime["token"]))
            assert page.status_code == 200, page.text
            pages += page.json()["items"]
            if not (cursor := page.json()["next_cursor"]):
                break
        assert pages == listed.json()["items"]

        for key, verb in ((manager, "revoke"), (clerk, "expire")):
            done = client.post(f"/v1/keys/{key['key_id']}/{verb}",
                               headers=bearer(prime["token"]))
            assert done.status_code == 200, done.text
            again = client.get(f"/v1/sites/{SITE}/on-site-now", headers=bearer(key["token"]))
            assert again.status_code == 401, again.text

        events = client.get("/v1/keys/events", headers=bearer(auditor))
        assert events.status_code == 200, events.text
        seen = {(e["key_id"], e["kind"], e["actor"], e["by_key_id"])
                for e in events.json()["items"]}
        assert {(prime["key_id"], "issued", "admin:e2e", prime["issued_by"]),
                (manager["key_id"], "issued", "prime_contractor:100", prime["key_id"]),
                (manager["key_id"], "revoked", "prime_contractor:100", prime["key_id"]),
                (clerk["key_id"], "expired", "prime_contractor:100", prime["key_id"])} <= seen
