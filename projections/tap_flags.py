"""The one rule that flags a stored tap for the site's staff (DESIGN §4: nothing a reader sends
is dropped; what needs attention is flagged).

The answer to an upload (`projections.tap_answers`) and the site's exceptions list (the
projection, `projections.projector`) both call `judge`, with the same inputs: the tap as stored,
its log position, the receive time stored in its event, and the registries as they were at that
position. So a tap answered `flagged` is listed with the same flags, and one answered `accepted`
is not listed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

# A reader's clock ahead of the server's receive time by more than this is flagged.
CLOCK_SKEW = timedelta(minutes=5)
# A reader's clock behind the server's: a spooled tap may arrive long after it was made (a reader
# offline, a backlog uploaded later), so only a tap older on arrival than records of attendance
# are kept (3 years) is flagged: a clock reset to 1970 or 2000 is, a backlog is not.
CLOCK_BEHIND = timedelta(days=3 * 366)
# Every flag, in the order answers and exceptions list them.
FLAGS = ("unknown_card", "revoked_card", "unregistered_reader", "clock_skew", "conflict")
# A phone tap's own flags (スマホ入場), decided once when it is recorded and stored in its event
# (`ledger.domain.phone`): made with the site's printed day code (counted, marked); outside the
# site's area or without a position (stored, listed, not counted until a manual entry is approved).
PHONE_FLAGS = ("printed_code", "outside_area", "no_position")

# A registry row with the log positions its state holds between (see projections/registry.py).
ReaderRow = tuple[str, int, int | None]  # (site_id, registered_at_position, retired_at_position)
CardRow = tuple[str, int, int | None]  # (technician_id, issued_at_position, revoked_at_position)


class Judgement(NamedTuple):
    site_id: str | None  # the reader's site at the tap's position (None: registered to none)
    technician_id: str | None  # as sent, or the card's holder at the tap's position
    flags: tuple[str, ...]  # in `FLAGS` order


def judge(
    position: int,
    technician_id: str | None,
    reader_time: datetime,
    received_at: datetime,
    reader: ReaderRow | None,
    card: CardRow | None,
    conflict: bool = False,
    phone: tuple[str, tuple[str, ...]] | None = None,
) -> Judgement:
    """A stored tap at log `position`, judged by the registries as they were there: `reader`
    is its reader's row and `card` its card's (None: not in the registry). `conflict`: it is a
    `Tap.ConflictingObservation`, a resend of a tap ID with other content. `phone`: a phone
    tap's (site of the gate code it scanned, its stored phone flags): its site is the code's,
    whose signature was checked when it was recorded, not a registered reader's."""
    flags: list[str] = []
    if technician_id is None:
        if card is None or card[1] > position:
            flags.append("unknown_card")
        else:
            technician_id = card[0]
            if card[2] is not None and card[2] < position:
                flags.append("revoked_card")
    site_id = None
    if phone is not None:
        site_id = phone[0]
    elif reader is not None and reader[1] <= position and (reader[2] is None
                                                          or reader[2] > position):
        site_id = reader[0]
    else:
        flags.append("unregistered_reader")
    if not -CLOCK_BEHIND <= reader_time - received_at <= CLOCK_SKEW:
        flags.append("clock_skew")
    if conflict:
        flags.append("conflict")
    if phone is not None:
        flags.extend(flag for flag in PHONE_FLAGS if flag in phone[1])
    return Judgement(site_id, technician_id, tuple(flags))
