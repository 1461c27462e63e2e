"""A site's exceptions resolved by its staff (the prime, its site manager, admin)."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import ActingAs, command, console, open_ledger, parse_actor
from api.cli.register import Day, site
from ledger.clock import parse_date, parse_datetime


@command("assign-card", group=site)
def assign_card(
    site_id: str,
    card_id: str,
    tap_id: str,
    technician_id: str,
    reason: str,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """An unknown card seen at the site was this worker's (on the roster): its flagged taps
    there, up to now, count for them. TAP_ID is one of those taps, from the exceptions list."""
    with open_ledger() as ledger:
        ledger.assign_unknown_card(
            site_id, card_id, tap_id, technician_id, reason, parse_actor(acting_as)
        )
    console.print(f"site {site_id}: card {card_id} assigned to {technician_id}")


@command("resolve-exit", group=site)
def resolve_exit(
    site_id: str,
    technician_id: str,
    work_date: Day,
    reason: str,
    exit_at: Annotated[
        str | None, typer.Option(help="ISO time the worker left, as stated; omit: time unknown")
    ] = None,
    acting_as: ActingAs = "admin:cli",
) -> None:
    """A past day's entry no exit closed: the worker left at --exit-at as the site's staff state
    it, or at a time unknown. Kept beside the record, never as a tap."""
    with open_ledger() as ledger:
        ledger.resolve_missing_exit(
            site_id,
            technician_id,
            parse_date(work_date, "work_date"),
            None if exit_at is None else parse_datetime(exit_at, "exit_at"),
            reason,
            parse_actor(acting_as),
        )
    console.print(f"site {site_id}: {technician_id}'s exit on {work_date} resolved")
