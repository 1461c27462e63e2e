"""スマホ入場 in a real browser: headless Chromium (Debian's, driven by Playwright) against
`ledger serve`, on SQLite and PostgreSQL. The employer registers the worker's phone with a passkey
made by Chromium's virtual authenticator (CDP WebAuthn domain); the gate page shows the site's
code; the phone page is fed the decoded code (what its camera would read), records an entry and
an exit, and the worker sees the day counted. A code past its window, the same code from another
phone and a position outside the site's area are each checked. The server is reached as
`localhost`: a passkey's relying party is a host name, never an IP address."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.geo import Area
from ledger.settings import Settings
from ledger.storage.keys import KeyStore
from ledger.storage.migrate import migrate
from tests.api_read_support import DATABASES, database
from tests.api_support import ADMIN
from tests.e2e.test_api_server import serving

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
PRIME, SUB, OTHER = "100", "200", "300"
WORKER = "12345678901234"
SITE = "10000000000001"
WORKER_NAME = "山田 太郎"
AREA = Area(35.681236, 139.767125, 150.0)
AT_GATE = {"latitude": 35.6813, "longitude": 139.7672, "accuracy": 15}
AT_HOME = {"latitude": 35.70, "longitude": 139.80, "accuracy": 10}
PHONE = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@dataclass(frozen=True)
class Served:
    url: str  # http://localhost:<port>
    tokens: dict[str, str]
    shots: Path


@pytest.fixture(name="served", scope="module", params=DATABASES)
def served_fixture(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("phone")
    with database(request.param, folder) as url:
        settings = Settings(database_url=url)
        migrate(settings)
        ledger, keys = Ledger(settings), KeyStore(settings)
        try:
            prime = Actor(Role.PRIME_CONTRACTOR, PRIME)
            for business, name in ((PRIME, "鈴木建設"), (SUB, "田中鉄筋"), (OTHER, "佐藤電気")):
                ledger.register_business(business, name, ADMIN)
            ledger.register_worker(WORKER, WORKER_NAME, ADMIN)
            ledger.join_employer(WORKER, SUB, date(2020, 4, 1), True, ADMIN)
            ledger.open_site(SITE, "新宿三丁目ビル", PRIME, "electronic", date(2024, 1, 9), ADMIN)
            ledger.add_subcontract(SITE, SUB, PRIME, prime)
            ledger.set_roster_entry(SITE, WORKER, SUB, "鉄筋", "職長", date(2024, 1, 9), prime)
            ledger.set_site_area(SITE, AREA, prime)
            tokens = {name: keys.create(role, subject).token for name, role, subject in (
                ("admin", Role.ADMIN, "ops"), ("prime", Role.PRIME_CONTRACTOR, PRIME),
                ("worker", Role.WORKER, WORKER), ("employer", Role.EMPLOYER, SUB))}
        finally:
            keys.close()
            ledger.close()
        env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_API_SCHEDULER": "false",
               "LEDGER_JOBS_OUTPUT_DIR": str(folder / "jobs"),
               "LEDGER_GATE_CODE_KEY_FILE": str(folder / "gate-code.key")}
        shots = SHOTS / request.param
        shots.mkdir(parents=True, exist_ok=True)
        with serving(env, folder / "serve.log") as server:
            yield Served(server.url.replace("127.0.0.1", "localhost"), tokens, shots)


@pytest.fixture(name="browser", scope="module")
def browser_fixture() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


def context(browser: Browser, served: Served, where: dict[str, Any] | None = None,
            viewport: dict[str, int] = PHONE) -> BrowserContext:
    made = browser.new_context(viewport=viewport, base_url=served.url)
    if where is not None:
        made.grant_permissions(["geolocation"], origin=served.url)
        made.set_geolocation(where)
    return made


def with_passkey_device(page: Page) -> None:
    """Chromium's virtual platform authenticator: a phone's built-in passkey store that
    verifies its user (fingerprint, face or PIN) every time."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})


def sign_in(page: Page, served: Served, who: str) -> None:
    page.goto("/app/signin")
    expect(page.get_by_label("API キー")).to_be_focused()
    page.keyboard.type(served.tokens[who])
    page.keyboard.press("Enter")
    page.wait_for_url("**/app/")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url("**/app/signin")


def phone_registered_by(browser: Browser, served: Served, who: str,
                        where: dict[str, Any]) -> Page:
    """A phone: its authenticator, its passkey made with the employer (or an administrator)
    signed in on it, who then signs out: the phone holds no session."""
    page = context(browser, served, where).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    with_passkey_device(page)
    sign_in(page, served, who)
    page.goto(f"/app/workers/{WORKER}/phone")
    expect(page.get_by_role("heading", level=1)).to_have_text("スマホの登録")
    page.get_by_role("button", name="このスマホを登録する").click()
    expect(page.locator("#phone-register-result")).to_contain_text("登録しました")
    sign_out(page)
    assert [e for e in errors if "Failed to load resource" not in e] == []
    return page


def gate_code(page: Page) -> str:
    code = page.locator("figure.gate-code").get_attribute("data-code")
    assert code
    return code


def fresh_code(gate: Page, used: list[str]) -> str:
    """The gate's code once its screen has renewed it past every code in `used` (htmx renews it
    every few seconds): one code counts once per worker."""
    gate.wait_for_function(
        "used => { const f = document.querySelector('figure.gate-code');"
        " return f !== null && !used.includes(f.dataset.code); }", arg=used, timeout=30_000)
    return gate_code(gate)


def tap(phone: Page, code: str, button: str) -> str:
    phone.goto("/app/phone")
    phone.get_by_label("読み取ったコード").fill(code)  # what the camera would have read
    phone.get_by_role("button", name=button, exact=True).click()
    result = phone.locator("#phone-tap-result")
    expect(result).not_to_be_empty()
    return result.inner_text()


def test_a_phone_taps_in_and_out_and_the_day_counts(browser: Browser, served: Served) -> None:
    phone = phone_registered_by(browser, served, "employer", AT_GATE)
    gate = context(browser, served, viewport={"width": 1024, "height": 768}).new_page()
    sign_in(gate, served, "prime")
    gate.goto(f"/app/sites/{SITE}/gate")
    expect(gate.get_by_role("heading", level=1)).to_have_text("現場コード")
    assert gate.locator("figure.gate-code svg").count() == 1  # the QR code, drawn inline
    gate.screenshot(path=str(served.shots / "20-gate-code.png"), full_page=True)
    # The gate page shows nobody: no worker's name or ID.
    assert WORKER_NAME not in gate.content() and WORKER not in gate.content()
    first = gate_code(gate)
    assert tap(phone, first, "入場") == "入場を記録しました"
    phone.screenshot(path=str(served.shots / "21-phone-tap.png"), full_page=True)
    # The gate's screen renews its code (htmx, every few seconds); the exit scans the next one.
    second_code = fresh_code(gate, [first])
    assert tap(phone, second_code, "退場") == "退場を記録しました"
    # The worker's own page: today counted, made by the phone.
    worker = context(browser, served).new_page()
    sign_in(worker, served, "worker")
    today = datetime.now(JST).date()
    worker.goto(f"/app/workers/{WORKER}")
    row = worker.locator("tbody tr", has_text=today.isoformat()).first
    expect(row).to_contain_text("計上")
    expect(row).to_contain_text("スマホ")
    worker.goto(f"/app/workers/{WORKER}/days/{SITE}/{today.isoformat()}")
    expect(worker.get_by_role("heading", level=2).first).to_have_text("計上されています")
    worker.screenshot(path=str(served.shots / "22-phone-day-receipt.png"), full_page=True)
    # The site's month: the phone's record is a tap's, not a direct input (経審 W1-⑩).
    gate.goto(f"/app/sites/{SITE}/month")
    expect(gate.locator("main")).to_contain_text("計上された履歴 1 件 ・ うち直接入力 0 件（0.0%）")
    gate.goto(f"/app/sites/{SITE}/gate")
    # The same code again from another phone of the worker's (a photo forwarded to it).
    second = phone_registered_by(browser, served, "admin", AT_HOME)
    refused = tap(second, first, "入場")
    assert refused.startswith("記録できませんでした") and "used" in refused
    # A code past its window: yesterday's printed code.
    yesterday = today - timedelta(days=1)
    gate.goto(f"/app/sites/{SITE}/gate/printed?day={yesterday.isoformat()}")
    expired = tap(second, gate_code(gate), "入場")
    assert expired.startswith("記録できませんでした") and "not valid" in expired
    # From home (outside the site's area): stored, and flagged.
    gate.goto(f"/app/sites/{SITE}/gate")
    flagged = tap(second, fresh_code(gate, [first, second_code]), "入場")
    assert flagged == "入場を記録しました（現場の範囲外）"
    second.screenshot(path=str(served.shots / "23-phone-outside-area.png"), full_page=True)
    # The site's staff see it among the flagged taps, with the same receipt as a card's.
    gate.goto(f"/app/sites/{SITE}/today")
    flagged_tap = gate.locator("#today li", has_text="現場の範囲外（outside_area）")
    expect(flagged_tap).to_have_count(1)
    flagged_tap.get_by_role("link").click()
    expect(gate.locator("main")).to_contain_text("スマホの位置が現場の範囲外でした")
    gate.screenshot(path=str(served.shots / "24-phone-tap-receipt.png"), full_page=True)


def test_the_gate_page_is_staff_only_and_the_phone_page_reads_nothing(
    browser: Browser, served: Served
) -> None:
    page = context(browser, served).new_page()
    sign_in(page, served, "worker")
    page.goto(f"/app/sites/{SITE}/gate")
    expect(page.get_by_role("heading", level=1)).to_have_text("見つかりません")
    sign_out(page)
    page.goto("/app/phone")  # no session: the page itself holds no one's data
    expect(page.get_by_role("heading", level=1)).to_have_text("スマホ打刻")
    assert WORKER not in page.content()
    page.get_by_label("読み取ったコード").fill("x.y")
    page.get_by_role("button", name="入場", exact=True).click()
    expect(page.locator("#phone-tap-result")).to_have_text("このスマホは登録されていません")


def test_a_phone_without_signal_keeps_the_tap_and_sends_it_later(
    browser: Browser, served: Served
) -> None:
    phone = phone_registered_by(browser, served, "employer", AT_GATE)
    gate = context(browser, served).new_page()
    sign_in(gate, served, "prime")
    gate.goto(f"/app/sites/{SITE}/gate/printed")  # today's printed code: marked as such
    code = gate_code(gate)
    phone.goto("/app/phone")
    phone.context.set_offline(True)
    phone.get_by_label("読み取ったコード").fill(code)
    phone.get_by_role("button", name="入場", exact=True).click()
    expect(phone.locator("#phone-tap-result")).to_have_text(
        "電波がありません。打刻は保存しました。")
    expect(phone.locator("#phone-pending")).to_contain_text("未送信の打刻 1 件")
    phone.context.set_offline(False)  # back online: the page sends what it kept
    expect(phone.locator("#phone-tap-result")).to_have_text("入場を記録しました（印刷コード）")
    expect(phone.locator("#phone-pending")).to_be_empty()
