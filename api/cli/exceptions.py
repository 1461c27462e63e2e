"""A site's exceptions resolved by its staff (the prime, its site manager, admin)."""

from __future__ import annotations

from api.cli.common import ActingAs, command, console, open_ledger, parse_actor
from api.cli.register import site


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
