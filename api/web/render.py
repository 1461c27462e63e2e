"""Templates (Jinja2, autoescaped) and the session a page is rendered for."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ledger.clock import JST

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
WEEKDAYS = "月火水木金土日"
ROLE_NAMES = {
    "prime_contractor": "元請", "site_manager": "現場管理者", "employer": "所属事業者",
    "worker": "技能者", "auditor": "監査", "admin": "管理者", "reader": "カードリーダー",
}


def jst(moment: datetime | None) -> str:
    """A moment as the site office reads it: JST, to the minute."""
    return "" if moment is None else moment.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def hhmm(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(JST).strftime("%H:%M")


def day(value: date | None) -> str:
    return "" if value is None else f"{value.isoformat()}（{WEEKDAYS[value.weekday()]}）"


def when(value: datetime | date | None) -> str:
    """A moment (JST, to the minute) or a day, whichever it is."""
    return jst(value) if isinstance(value, datetime) else day(value)


FLAG_NAMES = {
    "unknown_card": "不明カード", "revoked_card": "失効カード",
    "unregistered_reader": "未登録リーダー",
    "clock_skew": "時計のずれ", "conflict": "内容の衝突", "missing_exit": "退場なし",
    "missing_entry": "入場なし", "not_on_roster": "名簿外", "entry_pending": "直接入力の承認待ち",
    "correction_pending": "訂正の承認待ち", "insurance_unconfirmed": "社会保険未確認",
    "insurance_not_enrolled": "社会保険未加入", "qualification_missing": "必要資格なし",
    "qualification_expired": "資格期限切れ",
    "printed_code": "印刷コード", "outside_area": "現場の範囲外", "no_position": "位置情報なし",
}


def flags(values: Iterable[str]) -> str:
    """Flags as the site office reads them (the code in brackets, as the API names it)."""
    return "、".join(f"{FLAG_NAMES.get(v, v)}（{v}）" for v in values)


CHANNEL_NAMES = {"card": "カード", "phone": "スマホ", "manual": "直接入力", "corrected": "訂正"}


def channel(source: str) -> str:
    """Which channel made a record (card, phone, manual), as the site office reads it."""
    return CHANNEL_NAMES.get(source, source)


TEMPLATES.env.filters.update(jst=jst, hhmm=hhmm, day=day, when=when, flags=flags)
TEMPLATES.env.filters.update(channel=channel)
TEMPLATES.env.globals.update(ROLE_NAMES=ROLE_NAMES, JST=JST)


def render(request: Request, template: str, context: dict[str, Any],
           status_code: int = 200) -> HTMLResponse:
    session = getattr(request.state, "web_session", None)
    return TEMPLATES.TemplateResponse(
        request, template, {"session": session, **context}, status_code=status_code)
