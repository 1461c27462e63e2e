"""The web app in a real browser: headless Chromium (Debian's package, driven by Playwright; no
browser download) against `ledger serve` (uvicorn) on 127.0.0.1, on SQLite and PostgreSQL. Each
role signs in with its key; the prime approves an entry, assigns an unknown card, downloads the
site's CSV; another prime's site answers as absent; the worker reads why a day did not count.
Screenshots of every page are saved under var/screenshots/<database>/ (printed)."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ledger.actors import Actor, Role, Scope
from ledger.application import Ledger
from ledger.clock import JST
from ledger.settings import Settings
from ledger.storage.keys import KeyStore
from ledger.storage.migrate import migrate
from ledger.tap_records import observation_from_mapping
from tests.api_read_support import DATABASES, database
from tests.api_support import ADMIN
from tests.e2e.test_api_server import serving

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
PRIME, OTHER, SUB = "100", "300", "200"
WORKER = "12345678901234"
SITE, OTHER_SITE = "10000000000001", "10000000000002"
READER, CARD, UNKNOWN_CARD = "GATE-A", "04A1B2C3", "0DDD0001"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CONSOLE_ERRORS: dict[int, list[str]] = {}  # per page: what the browser's console said was wrong


@dataclass(frozen=True)
class Served:
    url: str
    tokens: dict[str, str]
    today: date
    tapped_on: date
    shots: Path


def build(ledger: Ledger, today: date, morning: datetime) -> None:
    """A prime's site with a worker on its roster, a tap of the worker's card and one of an
    unknown card a little before now, and yesterday entered by hand (pending); another prime's
    site."""
    prime = Actor(Role.PRIME_CONTRACTOR, PRIME)
    for business, name in ((PRIME, "鈴木建設"), (OTHER, "佐藤電気"), (SUB, "田中鉄筋")):
        ledger.register_business(business, name, ADMIN)
    ledger.register_worker(WORKER, "山田 太郎", ADMIN)
    ledger.join_employer(WORKER, SUB, date(2020, 4, 1), True, ADMIN)
    ledger.open_site(SITE, "新宿三丁目ビル", PRIME, "electronic", date(2024, 1, 9), ADMIN)
    ledger.open_site(OTHER_SITE, "横浜倉庫", OTHER, "electronic", date(2024, 1, 9), ADMIN)
    ledger.add_subcontract(SITE, SUB, PRIME, prime)
    ledger.set_roster_entry(SITE, WORKER, SUB, "鉄筋", "職長", date(2024, 1, 9), prime)
    ledger.register_reader(READER, SITE, "auto", prime)
    ledger.issue_card(CARD, WORKER, ADMIN)
    ledger.record_taps([observation_from_mapping({
        "tap_id": f"{READER}:{n}", "reader_id": READER, "direction": "in", "card_id": card,
        "reader_time": (morning + timedelta(minutes=n)).isoformat()})
        for n, card in ((1, CARD), (2, UNKNOWN_CARD))], ADMIN)
    ledger.request_manual_entry(WORKER, SITE, today - timedelta(days=1), SUB, "鉄筋", "一般",
                                "配筋", Actor(Role.WORKER, WORKER), note="カード忘れ")


@pytest.fixture(name="served", scope="module", params=DATABASES)
def served_fixture(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("web")
    with database(request.param, folder) as url:
        settings = Settings(database_url=url)
        migrate(settings)
        now = datetime.now(JST)
        today, taps_at = now.date(), now - timedelta(minutes=30)  # a reader's clock is judged
        ledger, keys = Ledger(settings), KeyStore(settings)
        try:
            build(ledger, today, taps_at)
            tokens = {name: keys.create(role, subject).token for name, role, subject in (
                ("admin", Role.ADMIN, "ops"), ("prime", Role.PRIME_CONTRACTOR, PRIME),
                ("other_prime", Role.PRIME_CONTRACTOR, OTHER), ("worker", Role.WORKER, WORKER),
                ("employer", Role.EMPLOYER, SUB), ("auditor", Role.AUDITOR, "audit"))}
            tokens["site_manager"] = keys.create(
                Role.SITE_MANAGER, PRIME, scope=Scope(sites=frozenset({SITE}))).token
        finally:
            keys.close()
            ledger.close()
        env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_API_SCHEDULER": "false",
               "LEDGER_JOBS_OUTPUT_DIR": str(folder / "jobs")}
        shots = SHOTS / request.param
        shutil.rmtree(shots, ignore_errors=True)
        shots.mkdir(parents=True)
        print(f"screenshots: {shots}")
        with serving(env, folder / "serve.log") as server:
            # `make run` prints the web app's address next to the API's
            assert "web app http://127.0.0.1:" in (folder / "serve.log").read_text()
            yield Served(server.url, tokens, today, taps_at.date(), shots)


@pytest.fixture(name="browser", scope="module")
def browser_fixture() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


def signed_in(browser: Browser, served: Served, who: str,
              viewport: dict[str, int] = DESKTOP) -> Page:
    """Sign in with the keyboard alone: the key field has focus, Enter sends the form."""
    page = browser.new_context(viewport=viewport, base_url=served.url).new_page()
    errors = CONSOLE_ERRORS.setdefault(id(page), [])
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.goto("/app/signin")
    expect(page.get_by_label("API キー")).to_be_focused()
    page.keyboard.type(served.tokens[who])
    page.keyboard.press("Enter")
    page.wait_for_url("**/app/")
    return page


def first_of_month(day: date, months_later: int) -> date:
    first = day.replace(day=1)
    for _ in range(months_later):
        first = (first + timedelta(days=32)).replace(day=1)
    return first


def shot(page: Page, served: Served, name: str) -> None:
    page.screenshot(path=str(served.shots / f"{name}.png"), full_page=True)


def accessible(page: Page) -> None:
    """One h1, the page's language, a label for every field, every button named."""
    assert page.locator("h1").count() == 1
    assert page.locator("html").get_attribute("lang") == "ja"
    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')].filter(
        e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.name)""")
    assert unlabelled == []
    assert page.evaluate("() => [...document.querySelectorAll('button')].every("
                         "b => b.innerText.trim().length > 0)")
    assert CONSOLE_ERRORS.get(id(page), []) == []  # no script error, nothing the CSP refused


def test_the_session_cookie_is_httponly_and_strict(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "prime")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "ledger_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/app"
    assert cookie["expires"] > datetime.now().timestamp()
    assert page.evaluate("() => document.cookie") == ""  # no script reads it
    accessible(page)
    shot(page, served, "01-menu-prime")
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url("**/app/signin")
    page.goto("/app/")
    assert page.url.endswith("/app/signin")


def test_the_prime_approves_an_entry_from_its_inbox(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "prime")
    page.get_by_role("link", name="承認待ち").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("承認待ち")
    accessible(page)
    yesterday = served.today - timedelta(days=1)
    last_day = first_of_month(yesterday, 2) - timedelta(days=1)  # the end of the next month
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text(last_day.isoformat())
    shot(page, served, "02-inbox")
    page.locator("input[name=selected]").check()
    page.get_by_role("button", name="承認する").click()
    expect(page.get_by_role("status")).to_contain_text("直接入力を承認しました")
    shot(page, served, "03-inbox-approved")


def test_the_prime_assigns_an_unknown_card_after_reading_its_receipt(
    browser: Browser, served: Served
) -> None:
    page = signed_in(browser, served, "prime")
    page.goto(f"/app/sites/{SITE}/today")
    expect(page.get_by_role("heading", level=1)).to_have_text("本日の出面")
    expect(page.get_by_text(f"不明カード {UNKNOWN_CARD}")).to_be_visible()
    accessible(page)
    shot(page, served, "04-site-today")
    page.locator("a", has_text=served.tapped_on.isoformat()).first.click()
    expect(page.get_by_role("heading", level=2).first).to_have_text("計上されていません")
    expect(page.locator("main")).to_contain_text("登録されていないカードです")
    accessible(page)
    shot(page, served, "05-tap-receipt")
    page.go_back()
    assert page.evaluate("() => typeof htmx") == "object"  # the vendored htmx, no CDN
    with page.expect_response(lambda r: "fragment=true" in r.url and r.status == 200):
        page.get_by_role("button", name="今すぐ更新").click()  # what the 30 s poll asks too
    expect(page.locator("#today")).to_contain_text("現在入場中")
    page.get_by_label("技能者ID（作業員名簿にある人）").fill(WORKER)
    page.get_by_label("理由").fill("名簿と顔写真で確認")
    page.get_by_role("button", name="割り当てる").click()
    expect(page.get_by_role("status")).to_contain_text("割り当てました")
    expect(page.get_by_role("button", name="割り当てる")).to_have_count(0)  # resolved
    expect(page.locator("main")).to_contain_text("対応済み")
    shot(page, served, "06-site-today-assigned")


def test_the_prime_downloads_the_sites_month_as_csv(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "prime")
    page.goto(f"/app/sites/{SITE}/month")
    expect(page.get_by_role("heading", level=1)).to_have_text("月の集計")
    accessible(page)
    shot(page, served, "07-site-month")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV をダウンロード（Excel で開けます）").click()
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel opens it
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert {row["技能者ID"] for row in rows} >= {WORKER}
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel（.xlsx）をダウンロード").click()
    assert download.value.suggested_filename == f"site-{SITE}-{served.today:%Y-%m}.xlsx"
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert sheet is not None and sheet["B1"].value == "技能者ID"


def test_another_primes_site_answers_as_absent(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "other_prime")
    answer = page.goto(f"/app/sites/{SITE}/today")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("見つかりません")
    shot(page, served, "08-other-prime-refused")
    absent = page.goto("/app/sites/10000000000099/today")
    assert absent is not None and absent.status == 404
    assert page.locator("main").inner_text().replace("10000000000099", "X") == (
        page.goto(f"/app/sites/{SITE}/today") and page.locator("main").inner_text().replace(
            SITE, "X"))


def test_the_worker_reads_their_page_and_why_a_day_did_not_count_on_a_phone(
    browser: Browser, served: Served
) -> None:
    page = signed_in(browser, served, "worker", PHONE)
    page.get_by_role("link", name="マイページ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページ")
    expect(page.get_by_role("heading", name="レベル（能力評価）")).to_be_visible()
    expect(page.locator("article.level").first).to_contain_text("鉄筋: レベル 1（ホワイト）")
    expect(page.locator("article.level").first).to_contain_text("就業日数があと")
    accessible(page)
    shot(page, served, "09-worker-phone")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing wider than the phone
    page.goto(f"/app/workers/{WORKER}/days/{SITE}/2020-01-06")
    expect(page.locator("main")).to_contain_text("就業履歴がありません")
    expect(page.locator("main")).to_contain_text("期限が過ぎたため直せません")
    shot(page, served, "10-day-receipt-phone")


def test_the_employer_enters_a_day_for_its_worker(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "employer")
    page.goto(f"/app/workers/{WORKER}")
    expect(page.get_by_role("heading", name="直接入力（カードを忘れた日）")).to_be_visible()
    page.get_by_label("現場ID").fill(SITE)
    page.get_by_label("就業日", exact=True).fill((served.today - timedelta(days=2)).isoformat())
    page.get_by_label("所属事業者ID").fill(SUB)
    page.get_by_label("職種", exact=True).fill("鉄筋")
    page.get_by_label("作業内容").fill("配筋")
    page.get_by_role("button", name="送信（元請の承認が必要です）").click()
    expect(page.get_by_role("status")).to_contain_text("直接入力を送りました")
    accessible(page)
    shot(page, served, "11-employer-entry")


def test_the_employer_sees_its_workers(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "employer")
    page.get_by_role("link", name="所属技能者（入力代行）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("所属技能者")
    expect(page.locator("main")).to_contain_text("山田 太郎")
    accessible(page)
    shot(page, served, "12-employer-workers")


def test_the_site_manager_sees_its_site(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "site_manager", PHONE)
    page.get_by_role("link", name=f"本日の出面 {SITE}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("本日の出面")
    accessible(page)
    shot(page, served, "13-site-manager-today-phone")


def test_the_auditor_reads_the_events_behind_a_record(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "auditor")
    page.get_by_role("link", name="監査: 就業履歴の根拠").click()
    page.get_by_label("技能者ID").fill(WORKER)
    page.get_by_label("現場ID").fill(SITE)
    page.get_by_label("就業日").fill(served.tapped_on.isoformat())
    page.get_by_role("button", name="表示").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("根拠のイベント")
    expect(page.locator("tbody")).to_contain_text("Tap")
    accessible(page)
    shot(page, served, "14-auditor-events")
    # As of a moment: the page starts a replay job and follows it (htmx) until it is done.
    then = (datetime.now(JST) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("この時点の状態（任意・日本時間）").fill(then)
    page.get_by_role("button", name="表示").click()
    page.wait_for_url("**replay_id=*")
    replay = page.locator("#replay")
    expect(replay).to_contain_text("時点")
    expect(replay).to_contain_text("まで保存されます")  # shown once the job has ended
    expect(replay).to_contain_text("この日の就業日数 1 日")
    expect(replay).not_to_have_attribute("hx-trigger", "every 1s")  # it stopped refreshing
    accessible(page)
    shot(page, served, "14b-auditor-as-of")


def test_the_admin_issues_a_key_on_the_keys_page(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "admin")
    page.get_by_role("link", name="キーの管理").click()
    page.get_by_label("役割").select_option("worker")
    page.get_by_label("対象（事業者ID・技能者ID・リーダーID・氏名）").fill(WORKER)
    page.get_by_label("渡す人").fill("山田 太郎")
    page.get_by_role("button", name="発行する").click()
    expect(page.get_by_label("トークン")).to_have_value(re.compile(r"^ldg_"))
    accessible(page)
    shot(page, served, "15-admin-key-issued")
