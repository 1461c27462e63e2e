"""What each tap of an upload became: one answer per tap, from the same rule and the same inputs
as the site's exceptions list (`projections.tap_flags.judge`).

Both transports of the reader agent answer through here: the HTTP route (`api/routers/taps.py`)
and the in-process transport of a single-box install (`readers/inprocess.py`).

A tap is judged by the registries as they were at its log position. The read models' registries
keep the positions each row holds between, but they may lag the log; the events of the batch's
cards and readers stored after the read models' position are read from the log (by aggregate ID,
usually none) and laid over them, so the answer does not depend on how far the projection got.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from ledger.actors import Actor, Role
from ledger.application import Ledger, TapReceipt
from ledger.domain.registry import Card, Reader, card_aggregate_id, reader_aggregate_id
from ledger.domain.site import site_aggregate_id
from ledger.domain.taps import TapObservation
from ledger.domain.worker import worker_aggregate_id
from ledger.errors import LedgerError, NotPermitted
from ledger.storage import SkipsDuplicates
from ledger.storage.postgres import text_array
from ledger.tap_records import observation_from_mapping
from projections.decoding import EventClass, decode
from projections.entry_checks import entry_facts
from projections.projector import LedgerProjection
from projections.store import Tx, chunks
from projections.tap_flags import NO_ENTRY_FACTS, CardRow, EntryFacts, ReaderRow, entry_pair, judge


@dataclass(frozen=True)
class Rejected:
    tap_id: str | None
    reason: str


@dataclass(frozen=True)
class TapAnswer:
    """accepted | duplicate | flagged | conflict | rejected, as the `/v1/taps` contract says."""

    tap_id: str | None  # canonical for a stored tap; as sent (if a string) for a rejected one
    status: str
    flags: tuple[str, ...] = ()
    reason: str | None = None
    position: int | None = None
    content_hash: str | None = None  # conflict: this version's content
    stored_content_hash: str | None = None  # conflict: the version stored first


def active_reader_site(ledger: Ledger, reader_id: str) -> str:
    """The site of a registered reader that is not retired; raises UnknownReference (not
    registered) or NotPermitted (retired) otherwise."""
    reader = ledger.reader(reader_id)
    if reader.retired:
        raise NotPermitted("reader_id", "reader.retired", f"reader {reader_id} is retired")
    return str(reader.site_id)


def check_reader_taps(
    active_site: Callable[[str], str], actor: Actor, observations: Sequence[TapObservation]
) -> None:
    """Who may append these taps. A reader key appends taps of its own reader only, and only
    while that reader is registered to a site and not retired (DESIGN §2: a gate reader appends
    for its site only); admin appends for any reader (an import), its taps flagged by the one
    rule. `active_site` is `active_reader_site`, or a cache in front of it (the HTTP route's
    `ReaderDirectory`)."""
    if actor.role is not Role.READER:
        return  # `Ledger.record_taps` says which other roles append at all
    active_site(actor.id)
    for observation in observations:
        if observation.reader_id != actor.id:
            raise NotPermitted("reader_id", "tap.reader", "a reader appends its own taps only")


def parse_tap(record: Any) -> TapObservation | Rejected:
    """One tap as it was sent (any JSON value) → an observation, or why it is rejected."""
    if not isinstance(record, dict):
        return Rejected(None, "tap: is not a JSON object")
    sent_id = record.get("tap_id")
    tap_id = sent_id if isinstance(sent_id, str) else None
    try:
        return observation_from_mapping(record)
    except LedgerError as error:
        return Rejected(tap_id, f"{error.field}: {error.message}")
    except (TypeError, ValueError) as error:  # a value no field check anticipated
        return Rejected(tap_id, f"tap: is malformed ({type(error).__name__})")


def answer_taps(
    tx: Tx, ledger: Ledger, parsed: Sequence[TapObservation | Rejected],
    receipts: Sequence[TapReceipt],
) -> list[TapAnswer]:
    """One answer per tap sent, in order; `receipts` follow the parsed observations' order."""
    observations = [item for item in parsed if not isinstance(item, Rejected)]
    judged = [(o, r) for o, r in zip(observations, receipts, strict=True)
              if r.status != "duplicate"]
    readers, cards = _registries(
        tx, ledger, {o.reader_id for o, _ in judged},
        {o.card_id for o, _ in judged if o.technician_id is None and o.card_id is not None},
        max((cast(int, r.position) for _, r in judged), default=0))
    pairs = {
        (cast(int, r.position), o.tap_id): pair for o, r in judged if (pair := entry_pair(
            cast(int, r.position), o.technician_id, readers.get(o.reader_id),
            cards.get(o.card_id) if o.card_id is not None else None)) is not None}
    entries = _entries(tx, ledger, set(pairs.values()),
                       max((cast(int, r.position) for _, r in judged), default=0))
    stored = iter(receipts)
    answers = []
    for item in parsed:
        if isinstance(item, Rejected):
            answers.append(TapAnswer(item.tap_id, "rejected", reason=item.reason))
            continue
        receipt = next(stored)
        if receipt.status == "duplicate":
            answers.append(TapAnswer(receipt.tap_id, "duplicate"))
            continue
        assert receipt.position is not None and receipt.received_at is not None
        conflict = receipt.status == "conflict"
        pair = pairs.get((receipt.position, item.tap_id))
        flags = judge(
            receipt.position, item.technician_id, item.reader_time, receipt.received_at,
            readers.get(item.reader_id),
            cards.get(item.card_id) if item.card_id is not None else None, conflict,
            entries.get(pair, NO_ENTRY_FACTS) if pair else NO_ENTRY_FACTS, item.reader_id,
        ).flags
        status = receipt.status if conflict else "flagged" if flags else "accepted"
        answers.append(TapAnswer(receipt.tap_id, status, flags, None, receipt.position,
                                 receipt.content_hash, receipt.stored_content_hash))
    return answers


def phone_tap_flags(
    tx: Tx, ledger: Ledger, position: int, technician_id: str, site_id: str,
    reader_id: str, reader_time: datetime, received_at: datetime, phone_flags: Sequence[str],
) -> tuple[str, ...]:
    """A stored phone tap's flags, as the site's exceptions list will show them: the same
    `judge`, its site the gate code's, with the entry checks' facts of its worker at that site
    as they were at its position (the read models, the log laid over them)."""
    phone = (site_id, tuple(phone_flags))
    pair = entry_pair(position, technician_id, None, None, phone)
    entries = _entries(tx, ledger, {pair} if pair else set(), position)
    return judge(position, technician_id, reader_time, received_at, None, None, False,
                 entries.get(pair, NO_ENTRY_FACTS) if pair else NO_ENTRY_FACTS, reader_id,
                 phone=phone).flags


def _registries(
    tx: Tx, ledger: Ledger, reader_ids: set[str], card_ids: set[str], upto: int
) -> tuple[dict[str, ReaderRow], dict[str, CardRow]]:
    """The registry rows of these readers and cards, good for judging taps up to log position
    `upto`: the read models' rows, with the later events of the same readers and cards laid
    over them. Applying an event the rows already hold again changes nothing, so rows read a
    little after the read models' position was read are still right."""
    if not reader_ids and not card_ids:
        return {}, {}
    rows = tx.execute("SELECT position FROM {projection_positions} WHERE name = %s",
                      [LedgerProjection.name])
    projected = int(rows[0][0]) if rows else 0
    readers: dict[str, ReaderRow] = {
        row[0]: (row[1], row[2], row[3]) for row in _registry_rows(
            tx, "reader_registry", "reader_id",
            "site_id, registered_at_position, retired_at_position", sorted(reader_ids))}
    cards: dict[str, CardRow] = {
        row[0]: (row[1], row[2], row[3]) for row in _registry_rows(
            tx, "card_registry", "card_id",
            "technician_id, issued_at_position, revoked_at_position", sorted(card_ids))}
    if projected >= upto:
        return readers, cards
    keys: dict[UUID, str] = {reader_aggregate_id(r): r for r in reader_ids}
    keys |= {card_aggregate_id(c): c for c in card_ids}
    recorder = cast(SkipsDuplicates, ledger.recorder)
    for position, event_class, state in decode(
            ledger.mapper, recorder.select_events_of(sorted(keys), projected)):
        key = keys[state["originator_id"]]
        if event_class is Reader.Registered:
            readers[key] = (state["site_id"], position, None)
        elif event_class is Reader.Retired and key in readers:  # type: ignore[attr-defined]
            readers[key] = (readers[key][0], readers[key][1], position)
        elif event_class is Card.Issued:  # type: ignore[attr-defined]
            cards[key] = (state["technician_id"], position, None)
        elif event_class is Card.Revoked and key in cards:  # type: ignore[attr-defined]
            cards[key] = (cards[key][0], cards[key][1], position)
    return readers, cards


def _entries(
    tx: Tx, ledger: Ledger, pairs: set[tuple[str, str]], upto: int
) -> dict[tuple[str, str], EntryFacts]:
    """The entry facts of these (site, worker) pairs good up to log position `upto`: the read
    models' rows, with the later events of the same sites and workers laid over them (as
    `_registries` does for readers and cards)."""
    if not pairs:
        return {}
    rows = tx.execute("SELECT position FROM {projection_positions} WHERE name = %s",
                      [LedgerProjection.name])
    projected = int(rows[0][0]) if rows else 0
    later: list[tuple[int, EventClass, dict[str, Any]]] = []
    if projected < upto:
        keys: dict[UUID, tuple[str, str]] = {
            site_aggregate_id(s): ("site_id", s) for s, _ in pairs}
        keys |= {worker_aggregate_id(w): ("technician_id", w) for _, w in pairs}
        recorder = cast(SkipsDuplicates, ledger.recorder)
        for position, event_class, state in decode(
                ledger.mapper, recorder.select_events_of(sorted(keys), projected)):
            field, key = keys[state["originator_id"]]
            state[field] = key
            later.append((position, event_class, state))
    return entry_facts(tx, pairs, later)


def _registry_rows(
    tx: Tx, table: str, key: str, columns: str, ids: Sequence[str]
) -> list[tuple[Any, ...]]:
    """(`key`, `columns`…) of the rows of a registry whose `key` is one of `ids`.

    On PostgreSQL the IDs go as one array packed in PostgreSQL's binary format (`text_array`):
    psycopg dumps a list parameter element by element in Python. The array is joined as a table
    rather than tested with `key = ANY(…)`: psycopg prepares a statement on its fifth use, and
    the generic plan of a prepared statement, on a registry not analyzed yet, scans it checking
    every row against the whole array, a cost that grows with the registry (figures in
    BENCHMARKS.md)."""
    found: list[tuple[Any, ...]] = []
    for part in chunks(ids):
        if tx.sqlite:
            where, params = tx.is_in(key, part)
            found += tx.execute(f"SELECT {key}, {columns} FROM {{{table}}} WHERE {where}",
                                params)
        else:
            found += tx.execute(
                f"SELECT {key}, {columns} FROM {{{table}}} JOIN unnest(%s::text[]) "
                f"AS wanted({key}) USING ({key})", [text_array(part)])
    return found
