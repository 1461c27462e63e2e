"""建退共の口座 as read models: one row a point entry (bought, used, credited) and one a stated
wage-payment date, each with the log position it came from. Part of the ledger projection, so the
self-check and the incremental = rebuild property cover it."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.domain.kentaikyo_account import KentaikyoAccount
from projections.registry import handles
from projections.store import Tx

_ENTRY = ("INSERT INTO {kentaikyo_account_entries} (position, business_id, kind, entry_date, "
          "points, reference, ccus_linked) VALUES (%s, %s, %s, %s, %s, %s, %s)")


@handles(KentaikyoAccount.Opened)  # type: ignore[attr-defined]
def account_opened(tx: Tx, position: int, e: dict[str, Any]) -> None:
    pass  # an account with no entry has a balance of zero; the entries say everything


@handles(KentaikyoAccount.PointsPurchased)  # type: ignore[attr-defined]
def points_purchased(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(_ENTRY, [position, e["business_id"], "purchase", e["purchased_on"], e["points"],
                        e["purchase_id"], bool(e["ccus_linked"])])


@handles(KentaikyoAccount.PointsUsed)  # type: ignore[attr-defined]
def points_used(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(_ENTRY, [position, e["business_id"], "use", e["used_on"], e["points"],
                        e["reference"], False])
    if e["days"]:
        tx.executemany(
            "INSERT INTO {kentaikyo_contributions} (position, business_id, technician_id, "
            "site_id, work_date) VALUES (%s, %s, %s, %s, %s)",
            [[position, e["business_id"], technician, site, date.fromisoformat(day)]
             for technician, site, day in e["days"]])


@handles(KentaikyoAccount.RebateCredited)  # type: ignore[attr-defined]
def rebate_credited(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(_ENTRY, [position, e["business_id"], "rebate", e["credited_on"], e["points"],
                        f"{e['campaign_id']}:{e['purchase_id']}", False])


@handles(KentaikyoAccount.WagePaymentDateSet)  # type: ignore[attr-defined]
def wage_payment_set(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {kentaikyo_wage_payments} (business_id, month, paid_on, position) "
        "VALUES (%s, %s, %s, %s)", [e["business_id"], e["month"], e["paid_on"], position])
