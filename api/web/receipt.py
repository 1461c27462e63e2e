"""計上の確認 —「なぜ計上されなかったのか」: for a worker's day (the worker, their employer)
or a flagged tap at a site (its staff): counted, or the exact reason it did not count, what fixes
it, who must act and by when, traced back to the events (the API's audit trail).

The reasons are the read side's own statuses and flags (`projections.records`, `tap_flags`);
the last day is `ledger.clock.approval_deadline`'s (直接入力 and 承認 close at the end of the
month after the work date, JST). Nothing here decides anything: it explains what was decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import PRIME_READERS, WORKER_READERS
from api.query_params import WorkDate
from api.routers.attendance import list_site_exceptions
from api.routers.audit import WorkDatePath, list_record_events
from api.routers.careers import list_work_records
from api.schemas.careers import WorkRecordPublic
from api.schemas.common import SiteIdPath, TechnicianIdPath
from api.schemas.sites_read import TapExceptionPublic
from api.web.deps import WHOLE_LIST, SessionDep, ledger_of, reads_for
from api.web.render import render
from ledger import clock
from ledger.clock import JST, approval_deadline
from ledger.errors import UnknownReference

router = APIRouter()


@dataclass(frozen=True)
class Why:
    counted: bool
    reason: str
    fix: str
    who: str
    by: date | None  # the last day to act; None: nothing is due


def last_day(work_date: date) -> date:
    return approval_deadline(work_date).astimezone(JST).date() - timedelta(days=1)


def why_record(record: WorkRecordPublic | None, work_date: date, today: date) -> list[Why]:
    """A worker's day at a site: from its record's status and flags (none: no record)."""
    by = last_day(work_date)
    open_ = by >= today
    if record is None:
        return [Why(False, "この日・この現場の就業履歴がありません（カードが読まれていないか、"
                    "登録されていないカードでした）",
                    "直接入力をして元請の承認を受ける" if open_ else "期限が過ぎたため直せません",
                    "本人または所属事業者（入力）→ 元請（承認）", by if open_ else None)]
    status, flags = record.status.value, set(record.flags)
    whys = []
    if status == "counted":
        whys.append(Why(True, "計上されています", "", "", None))
    elif status == "pending":
        whys.append(Why(False, "直接入力が元請の承認待ちです", "元請が承認する",
                        "元請（または承認を任された現場管理者）", by))
    elif status == "rejected":
        whys.append(Why(False, "直接入力が否認されました",
                        "内容を直して直接入力をやり直す" if open_ else "期限が過ぎたため直せません",
                        "本人または所属事業者", by if open_ else None))
    elif status == "expired":
        whys.append(Why(False, "承認されないまま期限（翌月末）が過ぎました",
                        "直せません（期限切れ）", "", None))
    if "not_on_roster" in flags:
        whys.append(Why(status == "counted", "タッチの時点で作業員名簿に載っていませんでした",
                        "名簿に登録する", "元請または上位の事業者", by))
    if "correction_pending" in flags:
        whys.append(Why(status == "counted", "訂正が元請の承認待ちです（承認までは元の内容で計上）",
                        "元請が承認する", "元請", by))
    if "missing_exit" in flags:
        whys.append(Why(status == "counted", "退場の記録がありません（就業日は計上されます）",
                        "現場の職員が退場を確認する", "元請・現場管理者", None))
    return whys


TAP_REASONS: dict[str, tuple[str, str, str, bool]] = {
    # kind: (reason, what fixes it, who must act, counted anyway)
    "unknown_card": ("登録されていないカードです",
                     "このカードを名簿の技能者に割り当てる（またはカード登録）",
                     "元請・現場管理者", False),
    "revoked_card": ("失効したカードです", "新しいカードを使い、この日は直接入力をする",
                     "本人または所属事業者（入力）→ 元請（承認）", False),
    "unregistered_reader": ("この現場に登録されていない（または廃止された）リーダーです",
                            "リーダーを現場に登録する", "元請・現場管理者", False),
    "clock_skew": ("リーダーの時計が5分以上ずれていました（タッチは計上）",
                   "リーダーの時計を合わせる", "元請・現場管理者", True),
    "conflict": ("同じタッチIDで内容の違うものが届きました（後のものは計上されません）",
                 "正しい方を確かめ、必要なら直接入力をする", "元請・現場管理者", False),
    # The entry checks flag a tap and still count it (nothing a reader sends is dropped).
    "not_on_roster": ("この現場の作業員名簿に載っていません（タッチは計上）",
                      "作業員名簿に登録する", "所属事業者（名簿の提出）→ 元請", True),
    "insurance_unconfirmed": ("社会保険の加入が確認されていません（タッチは計上）",
                              "加入状況を確認して記録する", "所属事業者", True),
    "insurance_not_enrolled": ("社会保険に未加入と記録されています（タッチは計上）",
                               "加入手続きをして記録する", "所属事業者", True),
    "qualification_missing": ("この作業に必要な資格の記録がありません（タッチは計上）",
                              "資格を登録する（または作業を変える）", "所属事業者・元請", True),
    "qualification_expired": ("必要な資格の期限が切れていました（タッチは計上）",
                              "資格を更新して期限を記録する", "本人・所属事業者", True),
    # スマホ入場: a phone tap's own flags (`tap_flags.PHONE_FLAGS`)
    "printed_code": ("印刷した現場コードでの打刻です（タッチは計上）", "", "", True),
    "outside_area": ("スマホの位置が現場の範囲外でした",
                     "現場にいたなら直接入力をして元請の承認を受ける",
                     "本人または所属事業者（入力）→ 元請（承認）", False),
    "no_position": ("スマホの位置情報がありませんでした",
                    "現場にいたなら直接入力をして元請の承認を受ける（次回は位置情報を許可する）",
                    "本人または所属事業者（入力）→ 元請（承認）", False),
}


def why_tap(tap: TapExceptionPublic) -> list[Why]:
    by = last_day(tap.reader_time.astimezone(JST).date())
    if tap.resolution is not None:
        return [Why(True, f"対応済み: {tap.resolved_by} が決定しました", "", "", None)]
    return [Why(counted, reason, fix, who, None if counted else by)
            for kind in tap.kinds
            for reason, fix, who, counted in [TAP_REASONS.get(kind, (kind, "", "", False))]]


@router.get("/workers/{technician_id}/days/{site_id}/{work_date}")
async def day_receipt(request: Request, technician_id: TechnicianIdPath, site_id: SiteIdPath,
                      work_date: WorkDatePath, session: SessionDep) -> Response:
    """My day at a site: did it count, and if not, why (the worker, their employer)."""
    about = (technician_id, None)
    records = await list_work_records(technician_id, work_date, work_date, reads_for(
        request, session, *WORKER_READERS, about=about), WHOLE_LIST)
    record = next((r for r in records.items if r.site_id == site_id), None)
    events: Any = None
    if record is not None:
        try:
            events = await list_record_events(technician_id, site_id, work_date, reads_for(
                request, session, *WORKER_READERS, about=about), ledger_of(request), WHOLE_LIST)
        except UnknownReference:
            events = None
    today = clock.now().astimezone(JST).date()
    return render(request, "receipt.html", {
        "title": f"{work_date} の就業", "technician_id": technician_id, "site_id": site_id,
        "work_date": work_date, "record": record, "whys": why_record(record, work_date, today),
        "events": events.items if events is not None else []})


@router.get("/sites/{site_id}/taps/{tap_id}")
async def tap_receipt(request: Request, site_id: SiteIdPath, tap_id: str, work_date: WorkDate,
                      session: SessionDep) -> Response:
    """A tap at my site (its staff): why it was flagged, what fixes it, who, by when."""
    listed = await list_site_exceptions(site_id, work_date - timedelta(days=1),
                                        work_date + timedelta(days=1), reads_for(
                                            request, session, *PRIME_READERS,
                                            about=(None, site_id)), WHOLE_LIST)
    taps = [e for e in listed.items if e.tap_id == tap_id]
    if not taps:
        raise UnknownReference("tap_id", "tap.flagged",
                               f"{tap_id} is no flagged tap at {site_id} around {work_date}")
    return render(request, "receipt.html", {
        "title": f"タッチ {tap_id}", "site_id": site_id, "work_date": work_date, "taps": taps,
        "whys": [w for tap in taps for w in why_tap(tap)], "events": []})
