"""Decisions of a site's staff on its exceptions (`Site.UnknownCardAssigned`).

An unknown card's taps at a site, flagged and stored with no worker, become the assigned worker's
taps: the ones logged before the decision (by log position), not the ones after, so the live
projection and a rebuild give them to the same worker whatever the batches. Each becomes a tap of
the worker as a card tap would be (its other flags kept), and its exception shows the decision.
The tap keeps the decision's log position, so the work record it counts in names the decision
among its events (`CardDay.positions`).
A tap of a card issued to someone is never unknown, so no decision reaches it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import date
from typing import Any

import orjson

from ledger.clock import JST
from projections.store import Tx, as_datetime

UNKNOWN_CARD = "unknown_card"


def assign_unknown_card(
    tx: Tx, position: int, e: dict[str, Any], affected: MutableMapping[Any, set[date]]
) -> None:
    site_id, card_id, technician_id = e["site_id"], e["card_id"], e["technician_id"]
    taps = tx.execute(
        "SELECT tap_id, reader_time, flags FROM {tap_facts} WHERE site_id = %s AND card_id = %s "
        "AND technician_id IS NULL AND position < %s",
        [site_id, card_id, position],
    )
    for tap_id, reader_time, flags in taps:
        kept = [flag for flag in orjson.loads(flags) if flag != UNKNOWN_CARD]
        tx.execute(
            "UPDATE {tap_facts} SET technician_id = %s, flags = %s, assigned_position = %s "
            "WHERE tap_id = %s",
            [technician_id, orjson.dumps(kept).decode(), position, tap_id],
        )
        at = as_datetime(reader_time)
        assert at is not None  # NOT NULL column
        affected.setdefault((technician_id, site_id), set()).add(at.astimezone(JST).date())
    resolution = {
        "kind": "card_assigned",
        "technician_id": technician_id,
        "tap_id": e["tap_id"],  # the tap the staff looked at
        "reason": e["reason"],
        "position": position,
    }
    # Conflicting versions (a stored_content_hash) are no tap fact and stay open.
    tx.execute(
        "UPDATE {site_exceptions} SET resolution = %s, resolved_by = %s, resolved_at = %s "
        "WHERE site_id = %s AND card_id = %s AND technician_id IS NULL AND position < %s "
        "AND resolution IS NULL AND stored_content_hash IS NULL",
        [orjson.dumps(resolution).decode(), str(e["actor"]), e["decided_at"], site_id, card_id,
         position],
    )
