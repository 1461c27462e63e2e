"""The one rule that flags a stored tap for the site's staff (DESIGN §4: nothing a reader sends
is dropped; what needs attention is flagged).

The answer to an upload (`projections.tap_answers`) and the site's exceptions list (the
projection, `projections.projector`) both call `judge`, with the same inputs: the tap as stored,
its log position, the receive time stored in its event, and the registries as they were at that
position. So a tap answered `flagged` is listed with the same flags, and one answered `accepted`
is not listed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple

from ledger.clock import jst_date

# A reader's clock ahead of the server's receive time by more than this is flagged.
CLOCK_SKEW = timedelta(minutes=5)
# A reader's clock behind the server's: a spooled tap may arrive long after it was made (a reader
# offline, a backlog uploaded later), so only a tap older on arrival than records of attendance
# are kept (3 years) is flagged: a clock reset to 1970 or 2000 is, a backlog is not.
CLOCK_BEHIND = timedelta(days=3 * 366)
# Every flag, in the order answers and exceptions list them.
# The entry checks (入場時の確認) come after the card's and reader's: they flag a tap that still
# counts.
FLAGS = ("unknown_card", "revoked_card", "unregistered_reader", "clock_skew", "conflict",
         "not_on_roster", "insurance_unconfirmed", "insurance_not_enrolled",
         "qualification_missing", "qualification_expired")
# A phone tap's own flags (スマホ入場), decided once when it is recorded and stored in its event
# (`ledger.domain.phone`): made with the site's printed day code (counted, marked); outside the
# site's area or without a position (stored, listed, not counted until a manual entry is approved).
PHONE_FLAGS = ("printed_code", "outside_area", "no_position")

# A registry row with the log positions its state holds between (see projections/registry.py).
ReaderRow = tuple[str, int, int | None]  # (site_id, registered_at_position, retired_at_position)
CardRow = tuple[str, int, int | None]  # (technician_id, issued_at_position, revoked_at_position)


class EntryFacts(NamedTuple):
    """What the entry checks of one worker at one site rest on, each row with the log position
    it was stored at (`projections.entry_checks` reads them): the rule keeps only rows stored
    before the tap, so a later confirmation never changes how a stored tap was judged."""

    checks_from: int | None  # Site.EntryChecksRequired's position (None: the site checks none)
    roster: tuple[tuple[int, str], ...]  # (position, trade) of each roster entry set
    # (position, as_of, statuses health/pension/employment) of each insurance record
    insurance: tuple[tuple[int, date, tuple[str, str, str]], ...]
    # (position, withdrawn position or None, qualification, trade or "" for every trade, work
    # area or "" for the whole site)
    requirements: tuple[tuple[int, int | None, str, str, str], ...]
    held: tuple[tuple[int, str, date], ...]  # (position, qualification, acquired_on)
    expiries: tuple[tuple[int, str, date], ...]  # (position, qualification, expires_on)
    gates: tuple[tuple[int, str, str], ...] = ()  # (position, reader, work area) of the site


NO_ENTRY_FACTS = EntryFacts(None, (), (), (), (), ())


def entry_flags(position: int, day: date, facts: EntryFacts, reader_id: str = "") -> list[str]:
    """The entry checks of a tap at `position` on work date `day` (JST), through the gate of
    `reader_id` (its work area as assigned before the tap)."""
    flags: list[str] = []
    before = [trade for p, trade in facts.roster if p < position]
    trade = before[-1] if before else None
    checks = facts.checks_from is not None and facts.checks_from < position
    if checks:
        if trade is None:
            flags.append("not_on_roster")
        # The record that holds on the tap's day: the latest as_of not after it.
        known = [(as_of, p, statuses) for p, as_of, statuses in facts.insurance
                 if p < position and as_of <= day]
        statuses = max(known)[2] if known else ("unconfirmed",) * 3
        if "unconfirmed" in statuses:
            flags.append("insurance_unconfirmed")
        elif "not_enrolled" in statuses:
            flags.append("insurance_not_enrolled")
    area = ""
    for p, gate, gate_area in sorted(facts.gates):
        if p < position and gate == reader_id:
            area = gate_area
    required = {q for p, withdrawn, q, for_trade, for_area in facts.requirements
                if p < position and (withdrawn is None or withdrawn > position)
                and (for_trade == "" or for_trade == trade)
                and (for_area == "" or for_area == area)}
    held = {q for p, q, acquired_on in facts.held if p < position and acquired_on <= day}
    expiry: dict[str, date] = {}
    for p, q, expires_on in sorted(facts.expiries):
        if p < position:
            expiry[q] = expires_on
    if required - held:
        flags.append("qualification_missing")
    # Valid through its expiry date: a tap on that day is not flagged, one the day after is.
    if any(q in expiry and expiry[q] < day for q in required & held):
        flags.append("qualification_expired")
    return flags


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
    entry: EntryFacts = NO_ENTRY_FACTS,
    reader_id: str = "",
    phone: tuple[str, tuple[str, ...]] | None = None,
) -> Judgement:
    """A stored tap at log `position`, judged by the registries as they were there: `reader`
    is its reader's row and `card` its card's (None: not in the registry). `conflict`: it is a
    `Tap.ConflictingObservation`, a resend of a tap ID with other content. `entry`: the entry
    checks' facts of the tap's worker at the tap's site (see `entry_pair` for which pair), and
    `reader_id` the tap's reader (its gate's work area). `phone`: a phone tap's (site of the
    gate code it scanned, its stored phone flags): its site is the code's, whose signature was
    checked when it was recorded, not a registered reader's."""
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
    if site_id is not None and technician_id is not None and entry is not NO_ENTRY_FACTS:
        flags += entry_flags(position, jst_date(reader_time), entry, reader_id)
    if phone is not None:
        flags.extend(flag for flag in PHONE_FLAGS if flag in phone[1])
    return Judgement(site_id, technician_id, tuple(flags))


def entry_pair(
    position: int, technician_id: str | None, reader: ReaderRow | None, card: CardRow | None,
    phone: tuple[str, tuple[str, ...]] | None = None,
) -> tuple[str, str] | None:
    """The (site, worker) whose entry facts `judge` needs for this tap, by the same rule (a
    caller loads them before judging); None when the tap has no site or no worker. A phone
    tap's site is its gate code's (`phone`, as `judge` takes it)."""
    site_id, technician_id, _ = judge(position, technician_id, datetime.min, datetime.min,
                                      reader, card, phone=phone)
    if site_id is None or technician_id is None:
        return None
    return site_id, technician_id
