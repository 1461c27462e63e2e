"""建退共 monthly settlement: the work report (就労実績報告) of a month, issued once, with files.

Late approvals and corrections to a month already issued are never written into it: the next
settlement diffs that month's report as it is now against everything issued for it so far, and
issues the difference as adjustments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.application import AggregateNotFoundError

from ledger import clock
from ledger.actors import Actor
from ledger.application import Ledger
from ledger.domain.settlement import (
    LOOKBACK_MONTHS,
    Adjustment,
    DayKey,
    DayValue,
    KentaikyoSettlement,
    add_months,
    check_job_actor,
    check_month_over,
    diff_days,
    issued_state,
    parse_month,
    settlement_id,
)
from ledger.domain.site import KentaikyoMethod
from projections.jobs.common import catch_up, record_once
from projections.kentaikyo import (
    AlreadyCovered,
    Eligible,
    MonthReport,
    NotEligible,
    SiteInfo,
    month_bounds,
    month_report,
)
from projections.records import RecordSource, RecordStatus, WorkRecord
from projections.settlement.files import render_kentaikyo, sha256_of, write_files
from projections.store import ReadStore, Tx, as_date, as_datetime

REPORT_CHUNK = 1000  # workers per month_report call


@dataclass(frozen=True)
class Enrollment:
    """Who is enrolled in Kentaikyo, since when, and under which number."""

    workers: dict[str, Any]  # technician → date enrolled
    employers: dict[str, Any]  # business → date enrolled
    members: dict[str, str]  # technician → 被共済者番号
    contracts: dict[str, str]  # business → 共済契約者番号


def settle_kentaikyo(
    ledger: Ledger, store: ReadStore, month: str, actor: Actor, output_dir: Path
) -> dict[str, Any]:
    """Issue `month`'s settlement unless it is issued already; (re)write its files either way."""
    check_job_actor(actor)
    parse_month(month)
    check_month_over(month, clock.now())
    position = catch_up(ledger, store)
    existing = load_settlement(ledger, month)
    if existing is None:
        settlement = _new_settlement(ledger, store, month, position, actor)
        issued = len(record_once(ledger, store, [settlement]))
        if not issued:  # issued meanwhile by someone else: keep theirs
            theirs = load_settlement(ledger, month)
            assert theirs is not None
            settlement = theirs
    else:
        settlement, issued = existing, 0
    written = write_issued_files(settlement, output_dir)
    return {
        "issued": issued, "day_lines": len(settlement.days),
        "adjustment_lines": len(settlement.adjustments), "points_yen": settlement.points_yen,
        "adjustment_yen": settlement.adjustment_yen, "files_written": len(written),
    }


def load_settlement(ledger: Ledger, month: str) -> KentaikyoSettlement | None:
    try:
        return ledger.repository.get(settlement_id(month))
    except AggregateNotFoundError:
        return None


def write_issued_files(settlement: KentaikyoSettlement, output_dir: Path) -> list[Path]:
    files = render_kentaikyo(settlement.month, settlement.days, settlement.adjustments,
                             settlement.parties, settlement.issued_at)
    return write_files(output_dir / "kentaikyo" / settlement.month, files, settlement.files)


def _new_settlement(
    ledger: Ledger, store: ReadStore, month: str, position: int, actor: Actor
) -> KentaikyoSettlement:
    with store.read() as tx:
        enrollment = _enrollment(tx)
        sites = _sites(tx)
        days = [[*key, *value] for key, value in _day_values(tx, month, enrollment, sites)]
        adjustments: list[Adjustment] = []
        for back in range(LOOKBACK_MONTHS, 0, -1):
            earlier = add_months(month, -back)
            original = load_settlement(ledger, earlier)
            if original is None:
                continue  # never issued: it will be settled in full, not adjusted
            later = [s for m in range(1, back) if (s := load_settlement(
                ledger, add_months(earlier, m))) is not None]
            current = dict(_day_values(tx, earlier, enrollment, sites))
            adjustments += diff_days(earlier, issued_state(original, later), current)
    parties = _parties(days, adjustments, sites, enrollment)
    now = clock.now()
    files = render_kentaikyo(month, days, [a.as_row() for a in adjustments], parties, now)
    return KentaikyoSettlement.issue(month, days, adjustments, parties, sha256_of(files),
                                     position, actor, now)


def _day_values(
    tx: Tx, month: str, enrollment: Enrollment, sites: dict[str, SiteInfo],
    chunk: int = REPORT_CHUNK,
) -> Iterator[tuple[DayKey, DayValue]]:
    """The month's worker-day lines in (technician, employer, site, date) order, computed a
    chunk of workers at a time: one contribution a day is decided per worker, so the chunks
    are independent, and memory follows the chunk rather than the whole month."""
    first, last = month_bounds(month)
    technicians = [row[0] for row in tx.execute(
        "SELECT DISTINCT technician_id FROM {work_records} WHERE work_date >= %s "
        "AND work_date <= %s AND status = 'counted' ORDER BY technician_id", [first, last])]
    for i in range(0, len(technicians), chunk):
        part = technicians[i:i + chunk]
        records = _counted_records(tx, first, last, part[0], part[-1])
        report = month_report(records, enrollment.workers, enrollment.employers, sites, month)
        yield from sorted(day_values(report).items(),
                          key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2], kv[0][3]))


def day_values(report: MonthReport) -> dict[DayKey, DayValue]:
    """Every counted worker-day line of a report: points, or why none."""
    values: dict[DayKey, DayValue] = {}
    for line in report.lines:
        for day in line.days:
            key = (line.technician_id, line.employer_business_id, line.site_id,
                   day.work_date.isoformat())
            if isinstance(day, Eligible):
                values[key] = (day.points_yen, "eligible")
            elif isinstance(day, NotEligible):
                values[key] = (0, day.reason.value)
            elif isinstance(day, AlreadyCovered):
                values[key] = (0, f"covered:{day.carrying_site_id}")
    return values


def _parties(
    days: list[list[Any]], adjustments: list[Adjustment], sites: dict[str, SiteInfo],
    enrollment: Enrollment,
) -> dict[str, dict[str, str]]:
    keys = [tuple(row[:3]) for row in days] + [a.key[:3] for a in adjustments]
    technicians = {k[0] for k in keys}
    employers = {k[1] for k in keys if k[1]}
    return {
        "sites": {k[2]: sites[k[2]].prime_business_id for k in keys if k[2] in sites},
        "members": {t: enrollment.members[t] for t in sorted(technicians)
                    if t in enrollment.members},
        "contracts": {e: enrollment.contracts[e] for e in sorted(employers)
                      if e in enrollment.contracts},
    }


def _counted_records(
    tx: Tx, first: date, last: date, low: str, high: str
) -> list[WorkRecord]:
    """Counted records of the month for technicians `low` … `high`."""
    return [
        WorkRecord(
            technician_id=row[0], site_id=row[1], work_date=as_date(row[2]),  # type: ignore[arg-type]
            employer_business_id=row[3], trade=row[4], position=row[5], work_content=row[6],
            first_entry=as_datetime(row[7]), last_exit=as_datetime(row[8]),
            source=RecordSource(row[9]), status=RecordStatus(row[10]),
            flags=tuple(orjson.loads(row[11])), event_positions=tuple(orjson.loads(row[12])),
        )
        for row in tx.execute(
            "SELECT technician_id, site_id, work_date, employer_business_id, trade, "
            "role_position, work_content, first_entry, last_exit, source, status, flags, "
            "event_positions FROM {work_records} WHERE technician_id >= %s "
            "AND technician_id <= %s AND work_date >= %s AND work_date <= %s "
            "AND status = 'counted'", [low, high, first, last])
    ]


def _enrollment(tx: Tx) -> Enrollment:
    workers, members, employers, contracts = {}, {}, {}, {}
    for technician, since, number in tx.execute(
        "SELECT technician_id, kentaikyo_since, kentaikyo_member_number FROM {workers} "
        "WHERE kentaikyo_since IS NOT NULL"
    ):
        workers[technician], members[technician] = as_date(since), number
    for business, since, number in tx.execute(
        "SELECT business_id, kentaikyo_since, kentaikyo_contract_number FROM {businesses} "
        "WHERE kentaikyo_since IS NOT NULL"
    ):
        employers[business], contracts[business] = as_date(since), number
    return Enrollment(workers, employers, members, contracts)


def _sites(tx: Tx) -> dict[str, SiteInfo]:
    parents: defaultdict[str, dict[str, str]] = defaultdict(dict)
    for site, business, parent in tx.execute(
        "SELECT site_id, business_id, parent_business_id FROM {site_structure} "
        "WHERE parent_business_id IS NOT NULL"
    ):
        parents[site][business] = parent
    return {
        site: SiteInfo.from_parents(site, prime, KentaikyoMethod(method), parents[site])
        for site, prime, method in tx.execute(
            "SELECT site_id, prime_business_id, kentaikyo_method FROM {sites}")
    }
