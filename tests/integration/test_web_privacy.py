"""Every page of the web app × every role of the read matrix × own and other data, on both
databases: the page answers exactly what the JSON API answers the same party for the same data
(200, 403, or 404 as if absent), and a page shown holds no other party's site or worker."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook

from tests.api_read_support import (  # noqa: F401  (read_api_fixture is a fixture)
    D0,
    D1,
    D2,
    MONTH,
    READ_ENDPOINTS,
    READ_ROLES,
    REPLAY_READS,
    ReadWorld,
    read_api_fixture,
    replay_ended,
    with_query,
)
from tests.api_support import Api
from tests.web_support import WebSession

TARGETS = ("own", "other")
# Readers sign in to nothing (their keys append taps); no token: the sign-in page.
WEB_ROLES = tuple(r for r in READ_ROLES if r not in ("reader", "no_token"))


@dataclass(frozen=True)
class Page:
    name: str
    path: Callable[[ReadWorld, str], str]
    api_endpoint: str  # the JSON read whose answer the page must give


def _site(w: ReadWorld, target: str) -> str:
    return w.site_a if target == "own" else w.site_b


def _worker(w: ReadWorld, target: str) -> str:
    return w.worker if target == "own" else w.other_worker


PAGES = (
    Page("inbox", lambda w, t: f"/app/primes/{w.prime_a if t == 'own' else w.prime_b}/inbox",
         "prime-inbox"),
    Page("site-today", lambda w, t: f"/app/sites/{_site(w, t)}/today", "on-site-now"),
    Page("site-today-fragment", lambda w, t: f"/app/sites/{_site(w, t)}/today?fragment=true",
         "on-site-now"),
    Page("site-month", lambda w, t: f"/app/sites/{_site(w, t)}/month?month={MONTH}",
         "site-attendance"),
    Page("site-csv", lambda w, t: f"/app/sites/{_site(w, t)}/records.csv?month={MONTH}",
         "site-records-csv"),
    Page("site-xlsx", lambda w, t: f"/app/sites/{_site(w, t)}/records.xlsx?month={MONTH}",
         "site-records-csv"),
    Page("worker", lambda w, t: f"/app/workers/{_worker(w, t)}", "career-summary"),
    Page("day-receipt", lambda w, t: f"/app/workers/{_worker(w, t)}/days/{_site(w, t)}/"
         f"{D1 if t == 'own' else D2}", "work-records"),
)
ENDPOINTS = {e.name: e for e in READ_ENDPOINTS}


@pytest.fixture(name="sessions", scope="module")
def sessions_fixture(read_api: tuple[Api, ReadWorld]) -> dict[str, WebSession]:
    api, world = read_api
    return {role: WebSession.of(api, actor) for role, actor in world.actors().items()
            if role in WEB_ROLES and actor is not None}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_each_page_answers_as_the_api_does(
    read_api: tuple[Api, ReadWorld], sessions: dict[str, WebSession], page: Page
) -> None:
    api, world = read_api
    endpoint = ENDPOINTS[page.api_endpoint]
    head = api.ledger.log_position()
    pages: dict[tuple[str, str], int] = {}
    answers: dict[tuple[str, str], int] = {}
    for role in WEB_ROLES:
        actor = world.actors()[role]
        for target in TARGETS:
            shown = sessions[role].get(page.path(world, target))
            pages[(role, target)] = shown.status_code
            api_path = with_query(endpoint.path(world, target), min_position=head)
            answers[(role, target)] = api.request("GET", api_path, actor).status_code
            if shown.status_code != 200:
                assert "text/html" in shown.headers["content-type"], (role, target)
                assert "<h1>" in shown.text
    assert pages == answers
    assert {200, 404} <= set(pages.values())  # the matrix has both sides for every page


def test_no_page_shows_another_primes_site_or_worker(
    read_api: tuple[Api, ReadWorld], sessions: dict[str, WebSession]
) -> None:
    _, world = read_api
    prime = sessions["prime_own"]
    inbox = prime.get(f"/app/primes/{world.prime_a}/inbox").text
    assert world.site_a in inbox and world.site_b not in inbox
    worker_page = prime.get(f"/app/workers/{world.worker}").text
    assert world.site_a in worker_page and world.site_b not in worker_page
    other = sessions["prime_other"].get(f"/app/sites/{world.site_a}/today")
    absent = sessions["prime_other"].get("/app/sites/99991000000001/today")
    assert other.status_code == absent.status_code == 404
    assert other.text.replace(world.site_a, "X") == absent.text.replace("99991000000001", "X")


def test_unknown_keys_sign_in_to_nothing(read_api: tuple[Api, ReadWorld]) -> None:
    api, _ = read_api
    with pytest.raises(AssertionError):
        WebSession(api.client, "ldg_0000000000000000_nope")
    api.client.cookies.clear()
    assert api.client.get("/app/", follow_redirects=False).headers["location"] == "/app/signin"


def test_a_gate_readers_key_opens_its_sites_gate_code_and_nothing_else(
    read_api: tuple[Api, ReadWorld]
) -> None:
    """A tablet at the gate signs in with the site's reader key (スマホ入場): it lands on the
    site's rotating code, which shows no personal data; every other page refuses it."""
    api, world = read_api
    reader = WebSession(api.client, api.token(world.actors()["reader"]))
    assert reader.signed_in_answer.headers["location"] == "/app/gate"
    landing = reader.get("/app/gate")
    assert landing.status_code == 303
    gate = landing.headers["location"]
    assert gate == f"/app/sites/{world.site_a}/gate"
    page = reader.get(gate)
    assert page.status_code == 200 and "<svg" in page.text
    assert world.worker not in page.text and world.other_worker not in page.text
    assert reader.get("/app/").headers["location"] == "/app/gate"
    other = reader.get(f"/app/sites/{world.site_b}/gate")
    absent = reader.get("/app/sites/99991000000001/gate")
    assert other.status_code == absent.status_code == 404
    refused = {path: reader.get(path).status_code for path in (
        f"/app/sites/{world.site_a}/today", f"/app/sites/{world.site_a}/month",
        f"/app/workers/{world.worker}", f"/app/primes/{world.prime_a}/inbox", "/app/keys",
        f"/app/audit?technician_id={world.worker}&site_id={world.site_a}&work_date={D1}",
        f"/app/businesses/{world.sub_a}/workers", f"/app/workers/{world.worker}/phone")}
    assert all(status in (403, 404) for status in refused.values()), refused


def test_a_site_managers_menu_lists_its_sites(
    read_api: tuple[Api, ReadWorld], sessions: dict[str, WebSession]
) -> None:
    _, world = read_api
    menu = sessions["site_manager_own"].get("/app/").text
    assert f"/app/sites/{world.site_a}/today" in menu and world.site_b not in menu
    assert "現場管理者" in menu  # the role, in Japanese


def test_a_flagged_taps_receipt_is_its_sites_staffs(
    read_api: tuple[Api, ReadWorld], sessions: dict[str, WebSession]
) -> None:
    _, world = read_api
    path = f"/app/sites/{world.site_a}/taps/{world.reader_a}:4?work_date={D1}"
    statuses = {role: sessions[role].get(path).status_code for role in (
        "prime_own", "site_manager_own", "auditor", "prime_other", "site_manager_other",
        "employer_own", "worker_self")}
    assert statuses == {"prime_own": 200, "site_manager_own": 200, "auditor": 200,
                        "prime_other": 404, "site_manager_other": 404, "employer_own": 403,
                        "worker_self": 403}
    receipt = sessions["prime_own"].get(path).text
    assert "登録されていないカードです" in receipt and "2025-07-31（木） まで" in receipt
    assert "元請・現場管理者" in receipt
    absent = sessions["prime_own"].get(
        f"/app/sites/{world.site_a}/taps/{world.reader_a}:999?work_date={D1}")
    assert absent.status_code == 404


def test_a_workers_day_receipt_says_why_it_did_not_count(
    read_api: tuple[Api, ReadWorld], sessions: dict[str, WebSession]
) -> None:
    _, world = read_api
    me = sessions["worker_self"]
    counted = me.get(f"/app/workers/{world.worker}/days/{world.site_a}/{D1}").text
    assert "計上されています" in counted and "根拠のイベント" in counted
    pending = me.get(f"/app/workers/{world.worker}/days/{world.site_a}/{D0}").text
    assert "直接入力が元請の承認待ちです" in pending and "2025-07-31（木） まで" in pending
    none = me.get(f"/app/workers/{world.worker}/days/{world.site_a}/2025-06-10").text
    assert "就業履歴がありません" in none and "直接入力をして元請の承認を受ける" in none


def test_an_employers_page_lists_its_own_workers_only(
    read_api: tuple[Api, ReadWorld], sessions: dict[str, WebSession]
) -> None:
    _, world = read_api
    path = f"/app/businesses/{world.sub_a}/workers"
    statuses = {role: sessions[role].get(path).status_code for role in WEB_ROLES}
    assert statuses == {
        "prime_own": 404, "prime_other": 404, "employer_own": 200, "employer_other": 404,
        "worker_self": 403, "worker_other": 403, "auditor": 200, "admin": 200,
        "site_manager_own": 403, "site_manager_other": 403, "employer_own_sites": 404,
        "employer_other_workers": 404, "orderer_own": 403, "orderer_other": 403}
    page = sessions["employer_own"].get(path).text
    assert world.worker in page and world.other_worker not in page
    assert world.lower_worker not in page  # lower_a's, not sub_a's
    assert str(D0) in page  # the worker's pending entry naming sub_a
    scoped = sessions["employer_other_workers"].get(f"/app/businesses/{world.sub_b}/workers")
    assert scoped.status_code == 200
    assert world.other_worker in scoped.text and world.worker not in scoped.text


def test_the_audit_page_is_for_auditors_and_shows_a_record_as_of_a_moment(
    read_api: tuple[Api, ReadWorld], sessions: dict[str, WebSession]
) -> None:
    api, world = read_api
    path = (f"/app/audit?technician_id={world.worker}&site_id={world.site_a}&work_date={D1}")
    statuses = {role: sessions[role].get(path).status_code for role in WEB_ROLES}
    assert statuses == {role: 200 if role in ("auditor", "admin") else 403 for role in WEB_ROLES}
    page = sessions["auditor"].get(path).text
    assert "Tap.Recorded" in page or "Recorded" in page
    # The world was recorded at 2025-06-20 10:00 (JST): before then the worker was unknown. The
    # page starts a replay job and sends the browser on to follow it, as the API answers 202.
    before = followed_replay(sessions["auditor"], path + "&as_of=2025-06-20T09:00")
    asked = api.request("POST", "/v1/audit/replays", world.actors()["auditor"], {
        "as_of": "2025-06-20T09:00:00+09:00", "technician_id": world.worker,
        "date_from": str(D1), "date_to": str(D1)})
    assert asked.status_code == 202
    failed = replay_ended(api, asked.json()["status_url"])
    assert (failed["status"], failed["failure"]["status"]) == ("failed", 404)
    assert "再生できませんでした" in before and failed["failure"]["detail"] in before
    after = followed_replay(sessions["auditor"], path + "&as_of=2025-06-20T11:00")
    assert "2025-06-20 11:00 時点" in after and "この日の就業日数 1 日" in after
    assert "まで保存されます" in after
    # Another role may not follow an auditor's job either.
    replay_id = after.split('id="replay" data-replay="')[1].split('"')[0]
    assert sessions["prime_own"].get(f"/app/audit/replays/{replay_id}").status_code == 403


def followed_replay(session: WebSession, path: str) -> str:
    """The audit page asked for a moment: sent on (303) to its job, whose part of the page
    refreshes itself (htmx) until the job has ended; the page as it then shows."""
    started = session.get(path)
    assert started.status_code == 303, started.text
    page = session.get(started.headers["location"])
    assert page.status_code == 200, page.text
    part = page.text
    for _ in range(REPLAY_READS):
        if 'hx-trigger="every 1s"' not in part:
            return page.text if part is page.text else part
        refresh = part.split('hx-get="')[1].split('"')[0]
        answer = session.get(refresh)
        assert answer.status_code == 200, answer.text
        part = answer.text
        time.sleep(0.02)
    raise AssertionError(f"{path}: the replay did not end")


def test_the_keys_page_lists_what_the_key_oversees(
    read_api: tuple[Api, ReadWorld], sessions: dict[str, WebSession]
) -> None:
    _, world = read_api
    statuses = {role: sessions[role].get("/app/keys").status_code for role in WEB_ROLES}
    # An orderer's key issues nothing (ledger/key_powers.py), so it has no keys page either.
    assert statuses == {role: 403 if role.startswith(("worker", "orderer")) else 200
                        for role in WEB_ROLES}
    admin = sessions["admin"].get("/app/keys").text
    assert "キーを発行する" in admin and world.prime_a in admin
    auditor = sessions["auditor"].get("/app/keys").text
    assert "キーを発行する" not in auditor
    prime = sessions["prime_own"].get("/app/keys").text
    assert world.prime_b not in prime


def test_the_excel_download_is_the_csv_export_cell_for_cell(
    read_api: tuple[Api, ReadWorld], sessions: dict[str, WebSession]
) -> None:
    _, world = read_api
    web = sessions["employer_own"]  # a subcontractor: its own tiers' rows only
    exported = web.get(f"/app/sites/{world.site_a}/records.csv?month={MONTH}")
    workbook = web.get(f"/app/sites/{world.site_a}/records.xlsx?month={MONTH}")
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    cells = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(
        values_only=True)]
    assert cells == list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert cells[0][:2] == ["就業日", "技能者ID"] and len(cells) > 1


def test_the_site_month_counts_records_and_the_manual_entry_share(
    read_api: tuple[Api, ReadWorld], sessions: dict[str, WebSession]
) -> None:
    _, world = read_api
    prime = sessions["prime_own"].get(f"/app/sites/{world.site_a}/month?month={MONTH}").text
    # worker and lower_worker on D1, lower_worker today, by card; the worker's 直接入力 of D0
    # is pending and counts nothing yet
    assert "計上された履歴 3 件 ・ うち直接入力 0 件（0.0%）" in prime
    assert "現場利用料" in prime  # the prime's bill section (no bill billed yet)
    sub = sessions["employer_own"].get(f"/app/sites/{world.site_a}/month?month={MONTH}").text
    assert "計上された履歴 3 件" in sub and "現場利用料" not in sub  # the bill is the prime's


def test_a_businesss_menu_lists_its_own_sites(
    read_api: tuple[Api, ReadWorld], sessions: dict[str, WebSession]
) -> None:
    _, world = read_api
    prime = sessions["prime_own"].get("/app/").text
    assert f"/app/sites/{world.site_a}/today" in prime and world.site_b not in prime
    sub = sessions["employer_own"].get("/app/").text
    assert f"/app/sites/{world.site_a}/today" in sub and "（下請）" in sub
    assert world.site_b not in sub
    assert "/app/sites/" not in sessions["worker_self"].get("/app/").text
