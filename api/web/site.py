"""現場: 本日の出面 (on site now, today's arrivals, missing exits, flagged taps; an unknown card
assigned to a worker) and the site's month (records per day, manual-entry share, CSV, 建退共,
the site-fee bill)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from openpyxl import Workbook
from pydantic import ValidationError

from api.deps import PRIME_READERS, SITE_FEE_READERS, SITE_READERS
from api.query_params import Month, OptionalMonth
from api.reading import Reading, Reads
from api.routers.attendance import (
    download_site_month,
    get_site_attendance,
    get_site_kentaikyo,
    list_missing_exits,
    list_on_site_now,
    list_site_exceptions,
)
from api.routers.site_exceptions import assign_unknown_card
from api.routers.site_fees import list_site_fees
from api.schemas.common import CardIdPath, SiteIdPath
from api.schemas.site_exceptions import UnknownCardAssign
from api.schemas.sites_read import AttendanceList, TapExceptionList
from api.web.deps import (
    WHOLE_LIST,
    FormSession,
    SessionDep,
    as_written,
    in_thread,
    ledger_of,
    reads_for,
)
from api.web.render import render
from api.web.sessions import WebSession
from ledger import clock
from ledger.actors import Role
from ledger.clock import JST
from ledger.errors import LedgerError
from projections.kentaikyo import month_bounds
from projections.queries import site_attendance
from projections.queries.scopes import site_scope
from projections.records import RecordSource, RecordStatus

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOOKBACK_DAYS = 7  # missing exits and flagged taps of the last week


async def today_context(request: Request, session: WebSession, site_id: str,
                        after: int | None = None) -> dict[str, Any]:
    """What the today page shows; `after` a write, read up to it (read-your-writes)."""
    today = clock.now().astimezone(JST).date()
    week_ago = today - timedelta(days=LOOKBACK_DAYS)

    def reads(*roles: Role) -> Reads:
        return reads_for(request, session, *roles, about=(None, site_id), min_position=after)

    on_site = await list_on_site_now(site_id, reads(*SITE_READERS), WHOLE_LIST)
    arrivals = await get_site_attendance(site_id, today, reads(*SITE_READERS), WHOLE_LIST)
    missing = await list_missing_exits(site_id, week_ago, today, reads(*SITE_READERS),
                                       WHOLE_LIST)
    flagged: TapExceptionList | None = None
    if session.actor.role in PRIME_READERS:  # the site's taps are its prime's to resolve
        try:
            flagged = await list_site_exceptions(site_id, week_ago, today,
                                                 reads(*PRIME_READERS), WHOLE_LIST)
        except LedgerError:
            flagged = None  # a subcontractor's prime key: not its site's taps (as the API)
    open_unknown = [e for e in flagged.items if "unknown_card" in e.kinds
                    and e.resolution is None] if flagged else []
    return {"site_id": site_id, "today": today, "on_site": on_site, "arrivals": arrivals,
            "missing": missing, "flagged": flagged, "open_unknown": open_unknown,
            "roster": roster_of(arrivals, on_site)}


def roster_of(*lists: AttendanceList) -> list[tuple[str, str]]:
    """Workers seen on the site (for the assignment's choice list; the domain checks the
    roster itself)."""
    seen = {row.technician_id: row.worker_name or "" for rows in lists for row in rows.items}
    return sorted(seen.items())


@router.get("/sites/{site_id}/today")
async def site_today(request: Request, site_id: SiteIdPath, session: SessionDep,
                     fragment: bool = False) -> Response:
    """本日の出面 (the prime, its site managers, subcontractors on the site: their tiers)."""
    context = await today_context(request, session, site_id)
    return render(request, "site_today_body.html" if fragment else "site_today.html", context)


@router.post("/sites/{site_id}/unknown-cards/{card_id}/assign")
async def assign_card(
    request: Request, site_id: SiteIdPath, card_id: CardIdPath, session: FormSession,
    technician_id: Annotated[str, Form()], tap_id: Annotated[str, Form()],
    reason: Annotated[str, Form()],
) -> Response:
    """不明カードの割当: a decision event (`Site.UnknownCardAssigned`), then the taps count."""
    def write() -> str:
        try:
            body = UnknownCardAssign(technician_id=technician_id, tap_id=tap_id, reason=reason)
        except ValidationError as invalid:
            return "入力が正しくありません: " + ", ".join(
                str(e["loc"][-1]) for e in invalid.errors())
        actor = as_written(request, session, f"/v1/sites/{site_id}/unknown-cards/{card_id}"
                           "/assign", {"site_id": site_id, "card_id": card_id},
                           body.model_dump())
        assign_unknown_card(site_id, card_id, body, actor, ledger_of(request),
                            request.app.state.readers)
        return ""

    error = await in_thread(write)
    context = await today_context(request, session, site_id,
                                  None if error else ledger_of(request).log_position())
    context["notice"] = error or f"カード {card_id} を {technician_id} に割り当てました"
    context["notice_ok"] = not error
    return render(request, "site_today.html", context, status_code=422 if error else 200)


def records_per_day(read: Reading, site_id: str, month: str) -> list[tuple[date, int, int]]:
    """Each day's counted records and how many of them were entered by hand (直接入力; a pending
    entry counts nothing yet), as the API's month export reads them (`download_site_month`: the
    site's scope, each day's attendance, the rows the scope shows), in one read."""
    scope = site_scope(read.tx, read.actor, site_id)
    first, last = month_bounds(month)
    found = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        rows = [r for r in site_attendance(read.tx, site_id, day).rows
                if scope.shows(r.employer_business_id) and r.status is RecordStatus.COUNTED]
        if rows:
            found.append((day, len(rows), sum(r.source is RecordSource.MANUAL for r in rows)))
    return found


@router.get("/sites/{site_id}/month")
async def site_month(request: Request, site_id: SiteIdPath, session: SessionDep,
                     month: OptionalMonth = None) -> Response:
    """現場の月: records per day, the manual-entry share (経審 W1-⑩), CSV, 建退共, 現場利用料."""
    month = month or clock.now().astimezone(JST).strftime("%Y-%m")
    about = (None, site_id)
    days = await reads_for(request, session, *SITE_READERS, about=about).run(
        lambda read: records_per_day(read, site_id, month))
    manual = sum(m for _, _, m in days)
    total = sum(n for _, n, _ in days)
    kentaikyo = await get_site_kentaikyo(site_id, month, reads_for(
        request, session, *SITE_READERS, about=about), WHOLE_LIST)
    fees = None
    if session.actor.role in SITE_FEE_READERS and session.actor.scope.whole and (
            kentaikyo.prime_business_id):
        try:
            fees = await list_site_fees(kentaikyo.prime_business_id, reads_for(
                request, session, *SITE_FEE_READERS), None, site_id)
        except LedgerError:
            fees = None  # the bill is the prime's: a subcontractor's page shows none
    return render(request, "site_month.html", {
        "site_id": site_id, "month": month, "days": days, "manual": manual, "total": total,
        "share": (manual / total) if total else 0.0, "kentaikyo": kentaikyo, "fees": fees})


@router.get("/sites/{site_id}/records.xlsx")
async def site_xlsx(request: Request, site_id: SiteIdPath, session: SessionDep,
                    month: Month) -> Response:
    """The same export as an Excel workbook: the API's CSV rows, cell for cell (its guard
    against formulas included), in one sheet."""
    exported = await site_csv(request, site_id, session, month)
    text = bytes(exported.body).decode("utf-8-sig")
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = month
    for row in csv.reader(io.StringIO(text)):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return Response(out.getvalue(), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="site-{site_id}-{month}.xlsx"'})


@router.get("/sites/{site_id}/records.csv")
async def site_csv(request: Request, site_id: SiteIdPath, session: SessionDep,
                   month: Month) -> Response:
    """The API's CSV of the site's month (UTF-8 with BOM, for Excel), as the session's actor."""
    return await download_site_month(site_id, month, reads_for(
        request, session, *SITE_READERS, about=(None, site_id)))

