"""The settlement projection: day-close findings, seals, settlements and fee bills as tables.

It is run by the log follower (``projections.follower``) like the ledger's read models, reading
only the jobs' own event topics, and tracks its position on its own row of
``projection_positions``, committed with its rows. A rebuild of the ledger's read models carries
that row over (``projections.replay``): the jobs' tables are not rebuilt with them.
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.utils import get_topic

from ledger.application import Ledger
from ledger.domain.settlement import DailySeal, DayClose, KentaikyoSettlement, SiteFeeAccount
from ledger.domain.settlement.heads import canonical
from projections.decoding import LoggedEvent
from projections.follower import LogFollower
from projections.store import ReadStore, Tx

NAME = "settlement"
BATCH = 1000  # what a job decides is small (lines live beside the log): a batch stays small

HANDLED = {
    "DayClose.Closed": "day_closed",
    "DailySeal.Sealed": "sealed",
    "KentaikyoSettlement.Issued": "settled",
    "SiteFeeAccount.MonthBilled": "billed",
}
TOPICS = (
    get_topic(DayClose.Closed),  # type: ignore[attr-defined]
    get_topic(DailySeal.Sealed),
    get_topic(KentaikyoSettlement.Issued),
    get_topic(SiteFeeAccount.MonthBilled),  # type: ignore[attr-defined]
    # stored before the settlement aggregates had a module each
    "ledger.domain.settlement:DayClose.Closed",
    "ledger.domain.settlement:DailySeal.Sealed",
    "ledger.domain.settlement:KentaikyoSettlement.Issued",
    "ledger.domain.settlement:SiteFeeAccount.MonthBilled",
)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class JobsProjection:
    """The jobs' tables, run by the same log follower as the ledger's read models, on its own
    row of ``projection_positions`` and only over the jobs' own topics. It keeps nothing
    between batches, and every insert ignores a row present already, so a batch seen twice
    changes nothing."""

    name = NAME
    topics = TOPICS

    def begin(self, position: int) -> None:
        pass

    def committed(self, position: int) -> None:
        pass

    def forget(self) -> None:
        pass

    def process(self, tx: Tx, batch: list[LoggedEvent]) -> None:
        for event in batch:
            HANDLERS[HANDLED[event.name]](tx, event.position, event.state)


def catch_up(ledger: Ledger, store: ReadStore, until: int | None = None) -> int:
    """Project the jobs' events recorded since the last call, up to the log's head or to the
    position `until`; return how many were projected."""
    follower = LogFollower(ledger, store, JobsProjection(), batch_size=BATCH)
    follower.stop = until
    return follower.catch_up()


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
    head = e.get("head")  # a signed seal's (version 3)
    tx.execute(
        "INSERT INTO daily_seals (day, first_position, last_position, event_count, seal_hash, "
        "previous_hash, position, head, signature) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        [e["day"], e["first_position"], e["last_position"], e["event_count"], e["seal_hash"],
         e["previous_hash"], position, None if head is None else canonical(head).decode(),
         e.get("signature")])


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
