"""建退共 monthly settlement: the work report (就労実績報告) of a month, issued once, with files.

Late approvals and corrections to a month already issued are never written into it: the next
settlement diffs that month's report as it is now against everything issued for it so far, and
issues the difference as adjustments.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from ledger import clock
from ledger.actors import Actor
from ledger.application import Ledger
from ledger.domain.settlement import (
    LOOKBACK_MONTHS,
    Adjustment,
    DayKey,
    DayValue,
    KentaikyoSettlement,
    LineSet,
    SettlementTally,
    add_months,
    check_job_actor,
    check_month_over,
    diff_streams,
    issued_stream,
    parse_month,
    parties_as_lines,
    parties_from_lines,
)
from ledger.domain.site import KentaikyoMethod
from projections.jobs.common import catch_up
from projections.jobs.files import place_files, render_kentaikyo_to
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
from projections.settlement import catch_up as project_decisions
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
    """Issue `month`'s settlement unless it is issued already; (re)write its files either way.

    The lines are streamed: computed a chunk of workers at a time into the ledger's line store,
    the files rendered from the stored lines, and the event issued last, naming both by SHA-256.
    A crash before the event leaves only content-addressed lines, which the next run reuses."""
    check_job_actor(actor)
    parse_month(month)
    check_month_over(month, clock.now())
    position = catch_up(ledger, store)
    folder = output_dir / "kentaikyo" / month
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{month}-") as scratch:
        staging = Path(scratch)
        settlement = ledger.kentaikyo_settlement(month)
        issued = 0
        if settlement is None:
            tally, days, adjustments, parties = _store_lines(ledger, store, month, actor)
            rendered = render_kentaikyo_to(
                staging, month, ledger.lines.lines(days), ledger.lines.lines(adjustments),
                parties_from_lines(ledger.lines.lines(parties)), clock.now())
            settlement, new = ledger.issue_kentaikyo_settlement(
                tally, days, adjustments, parties, rendered, position, actor)
            issued = int(new)
            if not new:  # issued meanwhile by someone else: theirs stands, render it
                rendered = _render_issued(ledger, settlement, staging)
        else:
            rendered = _render_issued(ledger, settlement, staging)
        written = place_files(staging, folder, rendered, settlement.files)
    project_decisions(ledger, store)
    return {
        "issued": issued, "day_lines": settlement.day_lines.count,
        "adjustment_lines": settlement.adjustment_lines.count,
        "points_yen": settlement.points_yen, "adjustment_yen": settlement.adjustment_yen,
        "files_written": len(written),
    }


def _render_issued(
    ledger: Ledger, settlement: KentaikyoSettlement, staging: Path
) -> dict[str, str]:
    for stale in staging.iterdir():
        stale.unlink()
    return render_kentaikyo_to(
        staging, settlement.month, ledger.lines_of(settlement.id, settlement.day_lines),
        ledger.lines_of(settlement.id, settlement.adjustment_lines),
        parties_from_lines(ledger.lines_of(settlement.id, settlement.party_lines)),
        settlement.issued_at)


def _store_lines(
    ledger: Ledger, store: ReadStore, month: str, actor: Actor
) -> tuple[SettlementTally, LineSet, LineSet, LineSet]:
    """Compute the month's lines and the adjustments to earlier months into the line store,
    applying the settlement's rules line by line; the parties are gathered on the way."""
    tally = SettlementTally(month)
    technicians: set[str] = set()
    employers: set[str] = set()
    site_ids: set[str] = set()

    def seen(key: DayKey) -> None:
        technicians.add(key[0])
        if key[1]:
            employers.add(key[1])
        site_ids.add(key[2])

    with store.read() as tx:
        enrollment = _enrollment(tx)
        sites = _sites(tx)

        def day_lines() -> Iterator[list[Any]]:
            for key, value in _day_values(tx, month, enrollment, sites):
                seen(key)
                yield tally.day([*key, *value])

        days = ledger.store_lines(day_lines(), actor)
        adjustments: list[Adjustment] = []
        for back in range(LOOKBACK_MONTHS, 0, -1):
            earlier = add_months(month, -back)
            original = ledger.kentaikyo_settlement(earlier)
            if original is None:
                continue  # never issued: it will be settled in full, not adjusted
            later = [s for m in range(1, back) if (s := ledger.kentaikyo_settlement(
                add_months(earlier, m))) is not None]
            issued = issued_stream(earlier, ledger.lines_of(original.id, original.day_lines),
                                   [(s.month, ledger.lines_of(s.id, s.adjustment_lines))
                                    for s in later])
            current = _day_values(tx, earlier, enrollment, sites)
            adjustments += diff_streams(earlier, issued, current)
    for adjustment in adjustments:
        seen(adjustment.key)
    adjustment_lines = ledger.store_lines((tally.adjustment(a) for a in adjustments), actor)
    parties = {
        "sites": {s: sites[s].prime_business_id for s in site_ids if s in sites},
        "members": {t: enrollment.members[t] for t in technicians if t in enrollment.members},
        "contracts": {e: enrollment.contracts[e] for e in employers
                      if e in enrollment.contracts},
    }
    party_lines = ledger.store_lines(parties_as_lines(parties), actor)
    return tally, days, adjustment_lines, party_lines


def _day_values(
    tx: Tx, month: str, enrollment: Enrollment, sites: dict[str, SiteInfo],
    chunk: int = REPORT_CHUNK,
) -> Iterator[tuple[DayKey, DayValue]]:
    """The month's worker-day lines in (technician, employer, site, date) order, computed a
    chunk of workers at a time: one contribution a day is decided per worker, so the chunks
    are independent, and memory follows the chunk rather than the whole month."""
    first, last = month_bounds(month)
    # In Python's order: the lines are merged with stored ones in that order (line_order).
    technicians = sorted(row[0] for row in tx.execute(
        "SELECT DISTINCT technician_id FROM {work_records} WHERE work_date >= %s "
        "AND work_date <= %s AND status = 'counted'", [first, last]))
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
