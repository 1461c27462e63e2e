"""The web app's writes, on SQLite and PostgreSQL: the session cookie's flags, the form token on
every form, sign-out and a revoked key ending the session server-side, and the pages' writes going
through the API's own rules (bulk decisions, 直接入力, an unknown card assigned)."""

from __future__ import annotations

import re
from datetime import date

from ledger.actors import Actor, Role, Scope
from ledger.domain.requests import RequestStatus
from ledger.tap_records import observation_from_mapping
from tests.api_support import ADMIN, Api, World, api_fixture, api_settings_fixture, build_world  # noqa: F401
from tests.web_support import WebSession, form_token


def caught_up(api: Api) -> None:
    """The read models have every event so far (the pages read without `min_position`)."""
    head = api.ledger.log_position()
    assert api.request("GET", f"/v1/audit/events?limit=1&min_position={head}",
                       ADMIN).status_code == 200


def prime_of(w: World) -> Actor:
    return Actor(Role.PRIME_CONTRACTOR, w.prime)


def test_the_session_cookie_is_httponly_strict_and_expires(api: Api) -> None:
    w = build_world(api.ledger, 1)
    web = WebSession.of(api, prime_of(w))
    cookie = next(h for h in web.signed_in_answer.headers.get_list("set-cookie")
                  if h.startswith("ledger_session="))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "max-age", "path"} <= flags and "secure" not in flags
    assert "samesite=strict" in cookie.lower() and "Path=/app" in cookie
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert 0 < max_age <= 8 * 3600

    page = web.get("/app/")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"

    api.client.cookies.clear()  # over https the cookie is Secure too
    form = api.client.get("https://testserver/app/signin")
    assert "secure" in form.headers["set-cookie"].lower()
    answer = api.client.post("https://testserver/app/signin", follow_redirects=False, data={
        "api_key": api.token(prime_of(w)), "csrf_token": form_token(form.text)})
    assert answer.status_code == 303
    assert "; secure" in answer.headers["set-cookie"].lower()


def test_every_form_needs_the_sessions_token(api: Api) -> None:
    w = build_world(api.ledger, 1)
    caught_up(api)
    web = WebSession.of(api, prime_of(w))
    before = api.ledger.log_position()
    path = f"/app/primes/{w.prime}/inbox"
    for token in (None, "forged", WebSession.of(api, prime_of(w)).csrf()):  # another session's
        data: dict[str, object] = {"action": "approve", "selected": f"ManualEntry:{w.entry}"}
        if token is not None:
            data["csrf_token"] = token
        refused = web.post(path, data)
        assert refused.status_code == 403 and "csrf_token" in refused.text
    assert web.post("/app/signout", {}).status_code == 403
    assert api.ledger.log_position() == before
    assert api.ledger.request(w.entry).status is RequestStatus.PENDING

    api.client.cookies.clear()  # sign-in without the form's own cookie token
    refused = api.client.post("/app/signin", data={"api_key": api.token(prime_of(w)),
                                                   "csrf_token": "made-up"})
    assert refused.status_code == 401 and "ledger_session" not in refused.cookies


def test_sign_out_and_a_revoked_key_end_the_session_server_side(api: Api) -> None:
    w = build_world(api.ledger, 1)
    web = WebSession.of(api, prime_of(w))
    kept = dict(web.cookies)
    assert web.get("/app/").status_code == 200
    assert web.post("/app/signout", {"csrf_token": web.csrf()}).headers["location"] == (
        "/app/signin")
    web.cookies = kept  # a copy of the cookie, kept after signing out, opens nothing
    assert web.get("/app/").headers["location"] == "/app/signin"

    worker = Actor(Role.WORKER, w.worker)
    other = WebSession.of(api, worker)
    assert other.get(f"/app/workers/{w.worker}").status_code == 200
    key_id = api.token(worker).split("_")[1]
    api.keys.revoke(key_id)
    assert other.get(f"/app/workers/{w.worker}").headers["location"] == "/app/signin"


def test_the_inbox_approves_and_rejects_many_at_once_through_the_api_rules(api: Api) -> None:
    w = build_world(api.ledger, 1)
    caught_up(api)
    web = WebSession.of(api, prime_of(w))
    page = web.get(f"/app/primes/{w.prime}/inbox")
    assert page.status_code == 200 and str(w.entry) in page.text and "2025-07-31（木）" in page.text
    assert "あと 41 日" in page.text  # 2025-06-20 to the last day, 2025-07-31
    assert "立場: 一般 → 班長" in page.text  # the correction, from the record as it is
    assert "作業員名簿: 鉄筋 一般" in page.text

    nothing = web.post(f"/app/primes/{w.prime}/inbox", {
        "csrf_token": web.csrf(), "action": "reject",
        "selected": [f"ManualEntry:{w.entry}", f"Correction:{w.correction}"]})
    assert "否認には理由が必要です" in nothing.text
    assert api.ledger.request(w.entry).status is RequestStatus.PENDING

    stranger = WebSession.of(api, Actor(Role.PRIME_CONTRACTOR, w.other))
    refused = stranger.post(f"/app/primes/{w.other}/inbox", {
        "csrf_token": stranger.csrf(), "action": "approve",
        "selected": [f"ManualEntry:{w.entry}"]})
    assert "できませんでした" in refused.text and "not registered" in refused.text
    assert api.ledger.request(w.entry).status is RequestStatus.PENDING

    done = web.post(f"/app/primes/{w.prime}/inbox", {
        "csrf_token": web.csrf(), "action": "approve",
        "selected": [f"ManualEntry:{w.entry}", f"Correction:{w.correction}"]})
    assert done.status_code == 200 and done.text.count("を承認しました") == 2
    assert api.ledger.request(w.entry).status is RequestStatus.APPROVED
    assert api.ledger.request(w.correction).status is RequestStatus.APPROVED


def test_a_site_manager_without_the_grant_approves_nothing(api: Api) -> None:
    w = build_world(api.ledger, 1)
    caught_up(api)
    manager = Actor(Role.SITE_MANAGER, w.prime, Scope(sites=frozenset({w.site})))
    web = WebSession.of(api, manager)
    answer = web.post(f"/app/primes/{w.prime}/inbox", {
        "csrf_token": web.csrf(), "action": "approve", "selected": [f"ManualEntry:{w.entry}"]})
    assert "できませんでした" in answer.text
    assert api.ledger.request(w.entry).status is RequestStatus.PENDING


def test_a_worker_enters_a_forgotten_day_and_a_hidden_site_answers_as_absent(api: Api) -> None:
    w = build_world(api.ledger, 1)
    caught_up(api)
    web = WebSession.of(api, Actor(Role.WORKER, w.worker))
    form = {"csrf_token": web.csrf(), "site_id": w.site, "work_date": "2025-06-18",
            "employer_business_id": w.sub, "trade": "鉄筋", "position": "一般",
            "work_content": "配筋"}
    before = api.ledger.log_position()
    sent = web.post(f"/app/workers/{w.worker}/manual-entries", form)
    assert sent.status_code == 200 and "承認待ち" in sent.text
    assert api.ledger.log_position() > before

    hidden = web.post(f"/app/workers/{w.worker}/manual-entries", form | {
        "site_id": w.other_site})
    absent = web.post(f"/app/workers/{w.worker}/manual-entries", form | {
        "site_id": w.absent_site()})
    assert hidden.status_code == absent.status_code == 404
    assert hidden.text.replace(w.other_site, "X") == absent.text.replace(w.absent_site(), "X")

    invalid = web.post(f"/app/workers/{w.worker}/manual-entries", form | {"work_date": "x"})
    assert invalid.status_code == 422 and "work_date" in invalid.text


def test_the_site_staff_assign_an_unknown_card_and_its_taps_count(api: Api) -> None:
    w = build_world(api.ledger, 1)
    tap = observation_from_mapping({"tap_id": f"{w.reader}:900", "reader_id": w.reader,
                                    "direction": "in", "card_id": "0DDD0001",
                                    "reader_time": "2025-06-20T08:00:00+09:00"})
    api.ledger.record_taps([tap], ADMIN)
    caught_up(api)
    web = WebSession.of(api, prime_of(w))
    today = web.get(f"/app/sites/{w.site}/today")
    assert "不明カード 0DDD0001" in today.text
    answer = web.post(f"/app/sites/{w.site}/unknown-cards/0DDD0001/assign", {
        "csrf_token": web.csrf(), "tap_id": f"{w.reader}:900", "technician_id": w.worker,
        "reason": "名簿で確認"})
    assert answer.status_code == 200 and "割り当てました" in answer.text
    caught_up(api)
    records = api.request("GET", f"/v1/workers/{w.worker}/records?date_from=2025-06-20"
                          "&date_to=2025-06-20", ADMIN).json()["items"]
    assert [(r["site_id"], r["status"]) for r in records] == [(w.site, "counted")]
    assert date(2025, 6, 20).isoformat() == records[0]["work_date"]


def test_a_prime_issues_and_revokes_a_site_managers_key_on_the_keys_page(api: Api) -> None:
    w = build_world(api.ledger, 1)
    caught_up(api)
    web = WebSession.of(api, prime_of(w))
    form = {"csrf_token": web.csrf(), "role": "site_manager", "subject_id": w.prime,
            "holder": "現場 太郎", "sites": w.site, "approves": "true",
            "expires_on": "2025-09-30"}
    issued = web.post("/app/keys", form)
    assert issued.status_code == 200 and "このトークンは今だけ表示されます" in issued.text
    token = re.search(r'id="token" value="(ldg_[^"]+)"', issued.text)
    assert token is not None
    key_id = token.group(1).split("_")[1]
    manager = api.client.get(f"/v1/primes/{w.prime}/inbox",
                             headers={"Authorization": f"Bearer {token.group(1)}"})
    assert manager.status_code == 200
    assert str(w.entry) in manager.text  # its site's part of the inbox

    beyond = web.post("/app/keys", form | {"sites": w.other_site})  # not the prime's site
    assert beyond.status_code == 422 and "このトークン" not in beyond.text  # as the API: scope

    revoked = web.post(f"/app/keys/{key_id}/revoke", {"csrf_token": web.csrf()})
    assert revoked.status_code == 200 and f"キー {key_id} を失効させました" in revoked.text
    assert api.client.get(f"/v1/primes/{w.prime}/inbox", headers={
        "Authorization": f"Bearer {token.group(1)}"}).status_code == 401

    worker = WebSession.of(api, Actor(Role.WORKER, w.worker))
    assert worker.post("/app/keys", form | {"csrf_token": worker.csrf()}).status_code == 403
