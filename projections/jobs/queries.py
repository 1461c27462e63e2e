"""Reads of the jobs' read models: day-close findings for a site's exceptions list, seals,
settlements and fee bills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from projections.store import ReadStore, Tx, as_date


@dataclass(frozen=True)
class DayCloseFinding:
    """One thing a day close listed: a record with no exit (subject: technician ID), a tap from
    an unknown card still unresolved (subject: tap ID; left out once the site's staff assign the
    card) or a reader that sent nothing (reader ID)."""

    site_id: str
    work_date: date
    kind: str  # missing_exit | unknown_card | silent_reader
    subject: str
    detail: dict[str, Any]
    position: int  # of the DayClose.Closed event


def day_close_findings(
    store: ReadStore, site_id: str, date_from: date, date_to: date
) -> list[DayCloseFinding]:
    """A site's day-close findings for work dates `date_from` … `date_to`, to list with its
    flagged taps (``projections.queries.exceptions.site_exceptions``)."""
    with store.read() as tx:
        return findings_in(tx, site_id, date_from, date_to)


def findings_in(tx: Tx, site_id: str, date_from: date, date_to: date) -> list[DayCloseFinding]:
    """``day_close_findings`` within a read the caller already holds."""
    # A day close is never changed, but an unknown card's tap it listed and the site's staff
    # assigned since is no longer to look at: it is left out here, and the tap itself is listed
    # beside these findings with the decision (its exception's `resolution`).
    rows = tx.execute(
        "SELECT site_id, work_date, kind, subject, detail, position FROM day_close_exceptions f "
        "WHERE site_id = %s AND work_date >= %s AND work_date <= %s AND NOT (kind = "
        "'unknown_card' AND EXISTS (SELECT 1 FROM {site_exceptions} e WHERE e.tap_id = f.subject "
        "AND e.resolution IS NOT NULL)) ORDER BY work_date, kind, subject",
        [site_id, date_from, date_to])
    return [DayCloseFinding(site, as_date(day), kind, subject, orjson.loads(detail), int(pos))  # type: ignore[arg-type]
            for site, day, kind, subject, detail, pos in rows]


def closed_days(store: ReadStore, site_id: str) -> list[date]:
    with store.read() as tx:
        rows = tx.execute("SELECT work_date FROM day_closes WHERE site_id = %s ORDER BY work_date",
                          [site_id])
    return [d for (value,) in rows if (d := as_date(value)) is not None]


def site_fee_bills(store: ReadStore, prime_business_id: str) -> list[dict[str, Any]]:
    """A prime's monthly site-fee bills, oldest first."""
    with store.read() as tx:
        rows = tx.execute(
            "SELECT month, usage_yen, carried_in_yen, billed_yen, carried_out_yen, outcome, lines "
            "FROM site_fee_bills WHERE prime_business_id = %s ORDER BY month",
            [prime_business_id])
    keys = ("month", "usage_yen", "carried_in_yen", "billed_yen", "carried_out_yen", "outcome")
    return [dict(zip(keys, row[:6], strict=True)) | {"lines": orjson.loads(row[6])}
            for row in rows]


def kentaikyo_settlements(store: ReadStore) -> list[dict[str, Any]]:
    """Issued settlements, by month: totals and the SHA-256 of each file."""
    with store.read() as tx:
        rows = tx.execute(
            "SELECT month, points_yen, adjustment_yen, day_lines, adjustment_lines, files "
            "FROM kentaikyo_settlements ORDER BY month")
    keys = ("month", "points_yen", "adjustment_yen", "day_lines", "adjustment_lines")
    return [dict(zip(keys, row[:5], strict=True)) | {"files": orjson.loads(row[5])}
            for row in rows]
