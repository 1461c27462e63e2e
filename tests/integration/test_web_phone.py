"""The phone-entry pages and posts on SQLite and PostgreSQL, through the web app: who may see the
gate's code (another prime's site answers as an absent one), that it holds no personal data, who
may register a phone, the form token on the registration, and the phone's tap post answering the
API's problems (nothing stored)."""

from __future__ import annotations

import json
from datetime import datetime

from ledger.actors import Actor, Role, Scope
from tests.api_support import ADMIN, Api, api_fixture, api_settings_fixture, build_world  # noqa: F401
from tests.phone_support import SoftPasskey
from tests.web_support import WebSession


def test_the_gate_page_is_the_site_staffs_and_shows_no_one(api: Api) -> None:
    w = build_world(api.ledger, 1)
    prime = WebSession.of(api, Actor(Role.PRIME_CONTRACTOR, w.prime))
    page = prime.get(f"/app/sites/{w.site}/gate")
    assert page.status_code == 200 and 'data-code="' in page.text and "<svg" in page.text
    worker_name = api.ledger.worker(w.worker).name
    assert w.worker not in page.text and worker_name not in page.text
    manager = WebSession.of(api, Actor(Role.SITE_MANAGER, w.prime,
                                       Scope(sites=frozenset({w.site}))))
    assert manager.get(f"/app/sites/{w.site}/gate?direction=in").status_code == 200
    assert manager.get(f"/app/sites/{w.site}/gate/printed").status_code == 200
    sub = WebSession.of(api, Actor(Role.EMPLOYER, w.sub))
    assert sub.get(f"/app/sites/{w.site}/gate").status_code == 403  # knows the site, no gate
    other = WebSession.of(api, Actor(Role.PRIME_CONTRACTOR, w.other))
    hidden = other.get(f"/app/sites/{w.site}/gate")
    absent = other.get("/app/sites/99999999999999/gate")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.text.replace(w.site, "X") == absent.text.replace("99999999999999", "X")
    worker = WebSession.of(api, Actor(Role.WORKER, w.worker))
    assert worker.get(f"/app/sites/{w.site}/gate").status_code == 404


def test_only_the_employer_or_an_administrator_registers_a_phone(api: Api) -> None:
    w = build_world(api.ledger, 1)
    path = f"/app/workers/{w.worker}/phone"
    employer = WebSession.of(api, Actor(Role.EMPLOYER, w.sub))
    page = employer.get(path)
    assert page.status_code == 200 and 'id="passkey-options"' in page.text
    assert WebSession.of(api, Actor(Role.WORKER, w.worker)).get(path).status_code == 403
    assert WebSession.of(api, Actor(Role.EMPLOYER, w.other)).get(path).status_code == 404
    # The registration post needs the session's form token; without it nothing is stored.
    options = page.text.split('id="passkey-options">')[1].split("</script>")[0]
    credential = SoftPasskey(origin="http://testserver", rp_id="testserver").create(options)
    before = api.ledger.log_position()
    employer._use_cookies()
    refused = api.client.post(path, json={"credential": credential, "csrf_token": "forged"})
    assert refused.status_code == 403 and api.ledger.log_position() == before
    answer = api.client.post(path, json={"credential": credential,
                                         "csrf_token": employer.csrf()})
    assert answer.status_code == 200, answer.text
    assert answer.json()["reader_id"].startswith("phone-")


def test_the_phone_post_answers_problems_and_stores_nothing(api: Api) -> None:
    w = build_world(api.ledger, 1)
    before = api.ledger.log_position()
    api.client.cookies.clear()
    for body, status, field in (
        ({"payload": 5, "sent_at": "2025-06-20T08:00:00+09:00", "credential": {}}, 422,
         "payload"),
        ({"payload": "{}", "sent_at": "yesterday", "credential": {}}, 422, "sent_at"),
    ):
        answer = api.client.post("/app/phone/taps", json=body)
        assert answer.status_code == status and answer.json()["field"] == field, answer.text
    code = api.ledger.gate_code(w.site, ADMIN)
    payload, credential = SoftPasskey(origin="http://testserver", rp_id="testserver").tap(
        code, "in", datetime.now().astimezone())
    answer = api.client.post("/app/phone/taps", json={
        "payload": payload, "sent_at": json.loads(payload)["scanned_at"],
        "credential": credential})
    assert answer.status_code == 404  # a passkey no one registered
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert api.ledger.log_position() == before
