"""The settlement projection: day-close findings, seals, settlements and fee bills as tables.

It reads only the jobs' own event topics (the library filters by topic), and tracks its position
in its own table, committed with its rows, so a rebuild of the ledger's read models (which
replaces ``projection_positions``) neither resets it nor double-counts it.
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.utils import get_topic

from ledger.application import Ledger
from ledger.domain.settlement import DailySeal, DayClose, KentaikyoSettlement, SiteFeeAccount
from projections.store import ReadStore, Tx

NAME = "settlement"
BATCH = 200  # settlement events can be megabytes each: keep a batch's memory bounded

TOPICS = {
    get_topic(DayClose.Closed): "day_closed",  # type: ignore[attr-defined]
    get_topic(DailySeal.Sealed): "sealed",  # type: ignore[attr-defined]
    get_topic(KentaikyoSettlement.Issued): "settled",  # type: ignore[attr-defined]
    get_topic(SiteFeeAccount.MonthBilled): "billed",  # type: ignore[attr-defined]
}


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def catch_up(ledger: Ledger, store: ReadStore, until: int | None = None) -> int:
    """Project the jobs' events recorded since the last call, up to the log's head or to the
    position `until`; return how many were projected."""
    total = 0
    while True:
        head = ledger.log_position() if until is None else until
        with store.transaction() as tx:
            start = _locked_position(tx)
            notifications = ledger.recorder.select_notifications(
                start=start, limit=BATCH, stop=head, topics=list(TOPICS),
                inclusive_of_start=False)
            for notification in notifications:
                event = ledger.mapper.to_domain_event(notification)
                HANDLERS[TOPICS[notification.topic]](tx, notification.id, vars(event))
            # A short batch means nothing else of ours up to `head`: skip the taps in between,
            # so the next call does not scan them again.
            done = len(notifications) < BATCH
            position = head if done else notifications[-1].id
            tx.execute("UPDATE job_projection_positions SET position = %s WHERE name = %s",
                       [max(position, start), NAME])
        total += len(notifications)
        if done:
            return total


def _locked_position(tx: Tx) -> int:
    # Two processes catching up at once: the row lock (PostgreSQL) or the write lock (SQLite)
    # makes the second wait and then continue from where the first stopped.
    tx.execute("INSERT INTO job_projection_positions (name, position) VALUES (%s, 0) "
               "ON CONFLICT DO NOTHING", [NAME])
    lock = "" if tx.sqlite else " FOR UPDATE"
    rows = tx.execute(f"SELECT position FROM job_projection_positions WHERE name = %s{lock}",
                      [NAME])
    return int(rows[0][0])


def _day_closed(tx: Tx, position: int, e: dict[str, Any]) -> None:
    site_id, work_date = e["site_id"], e["work_date"]
    rows: list[list[Any]] = []
    for record in e["missing_exits"]:
        rows.append([site_id, work_date, "missing_exit", record["technician_id"],
                     _json(record), position])
    for tap in e["unknown_card_taps"]:
        rows.append([site_id, work_date, "unknown_card", tap["tap_id"], _json(tap), position])
    for reader_id in e["silent_readers"]:
        rows.append([site_id, work_date, "silent_reader", reader_id, "{}", position])
    tx.executemany(
        "INSERT INTO day_close_exceptions (site_id, work_date, kind, subject, detail, position) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING", rows)
    tx.execute("INSERT INTO day_closes (site_id, work_date, findings, position) "
               "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
               [site_id, work_date, len(rows), position])


def _sealed(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO daily_seals (day, first_position, last_position, event_count, seal_hash, "
        "previous_hash, position) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [e["day"], e["first_position"], e["last_position"], e["event_count"], e["seal_hash"],
         e["previous_hash"], position])


def _settled(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO kentaikyo_settlements (month, points_yen, adjustment_yen, day_lines, "
        "adjustment_lines, files, issued_at, position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        [e["month"], e["points_yen"], e["adjustment_yen"], e["days"]["count"],
         e["adjustments"]["count"], _json(e["files"]), e["issued_at"], position])


def _billed(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO site_fee_bills (prime_business_id, month, usage_yen, carried_in_yen, "
        "billed_yen, carried_out_yen, outcome, lines, position) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [e["prime_business_id"], e["month"], e["usage_yen"], e["carried_in_yen"],
         e["billed_yen"], e["carried_out_yen"], e["outcome"], _json(e["lines"]), position])


HANDLERS = {"day_closed": _day_closed, "sealed": _sealed, "settled": _settled, "billed": _billed}
