"""Inclusion proofs for sealed events, from the stored rows and the roots a seal keeps.

A proof for one event reads only its 64-event run (each run is a subtree of the day's tree) and
the day's run roots kept beside the log, so proving a worker's 2,000 days reads about as many
runs, not the whole log.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import orjson

from ledger.application import Ledger
from ledger.domain.settlement import DailySeal, daily_seal_id
from ledger.domain.settlement.heads import CHUNK_LEAVES, SignedHead
from ledger.domain.settlement.merkle import consistency_proof, inclusion_proof
from ledger.domain.settlement.proofs import ConsistencyProof, EventProof
from projections.jobs.rawlog import RawEvent, count_between, slice_of
from projections.jobs.seal import leaf_of, stored_bytes
from projections.store import ReadStore, as_date


class NotSealed(LookupError):
    """An event no signed seal covers yet."""


@dataclass(frozen=True)
class SealedDay:
    day: date
    first_position: int
    last_position: int
    head: SignedHead


def sealed_days(
    store: ReadStore, after: date | None = None, limit: int | None = None
) -> list[SealedDay]:
    """The signed days in order: all of them, or (a page) at most `limit` after `after`."""
    where, params = "head IS NOT NULL", []
    if after is not None:
        where, params = f"{where} AND day > %s", [after]
    bound = "" if limit is None else f" LIMIT {int(limit)}"
    with store.read() as tx:
        rows = tx.execute("SELECT day, first_position, last_position, head, signature "
                          f"FROM daily_seals WHERE {where} ORDER BY day{bound}", params)
    days = []
    for day, first, last, head, signature in rows:
        found = as_date(day)
        assert found is not None
        days.append(SealedDay(found, int(first), int(last), SignedHead.from_dict(
            {"head": orjson.loads(head), "signature": signature})))
    return days


def prove_events(
    ledger: Ledger, store: ReadStore, positions: Iterable[int]
) -> tuple[dict[int, EventProof], dict[date, SignedHead]]:
    """Proofs for the events at `positions`, and the signed heads they lead to. Raises
    NotSealed naming the first position no signed seal covers."""
    days = sealed_days(store)
    by_day: dict[int, list[int]] = defaultdict(list)
    for position in sorted(set(positions)):
        index = _day_of(days, position)
        if index is None:
            last = days[-1].day.isoformat() if days else "none"
            raise NotSealed(f"log position {position} is not covered by a signed seal yet "
                            f"(last signed day: {last})")
        by_day[index].append(position)
    proofs: dict[int, EventProof] = {}
    heads: dict[date, SignedHead] = {}
    for index, wanted in by_day.items():
        sealed = days[index]
        heads[sealed.day] = sealed.head
        proofs.update(_prove_in_day(ledger, store, sealed, wanted))
    return proofs, heads


def _day_of(days: list[SealedDay], position: int) -> int | None:
    lo, hi = 0, len(days)
    while lo < hi:  # the first day whose range ends at or after the position
        mid = (lo + hi) // 2
        if days[mid].last_position < position:
            lo = mid + 1
        else:
            hi = mid
    if lo < len(days) and days[lo].first_position < position <= days[lo].last_position:
        return lo
    return None


def _prove_in_day(
    ledger: Ledger, store: ReadStore, sealed: SealedDay, positions: list[int]
) -> dict[int, EventProof]:
    full: object = ledger.repository.get(daily_seal_id(sealed.day))
    assert isinstance(full, DailySeal) and full.chunk_roots is not None  # a signed seal
    run_roots_raw = stored_bytes(ledger, full.id, full.chunk_roots)
    run_roots = [run_roots_raw[at:at + 32] for at in range(0, len(run_roots_raw), 32)]
    proofs: dict[int, EventProof] = {}
    runs: dict[int, list[tuple[RawEvent, bytes, bytes]]] = {}
    for position in positions:
        index = count_between(store, sealed.first_position, position)
        run = index // CHUNK_LEAVES
        if run not in runs:
            runs[run] = _run(ledger, store, sealed, run)
        rows = runs[run]
        at = index - run * CHUNK_LEAVES
        raw, _, plain = rows[at]
        if raw.position != position:
            raise NotSealed(f"log position {position} is not in the log")
        leaves = [leaf for _, leaf, _ in rows]
        proofs[position] = EventProof(
            position, raw.originator_id, raw.version, raw.topic,
            hashlib.sha256(raw.state).hexdigest(), plain, sealed.day, index,
            [*inclusion_proof(leaves, at), *inclusion_proof(run_roots, run)])
    return proofs


def _run(
    ledger: Ledger, store: ReadStore, sealed: SealedDay, run: int
) -> list[tuple[RawEvent, bytes, bytes]]:
    """One run of the day's leaves: (row, leaf hash, plain state) each."""
    rows = slice_of(store, sealed.first_position, sealed.last_position, run * CHUNK_LEAVES,
                    CHUNK_LEAVES)
    return [(raw, *leaf_of(ledger.mapper, raw)) for raw in rows]


def prove_consistency(
    store: ReadStore, earlier: date, later: date | None = None
) -> ConsistencyProof:
    """That the signed head of `later` (default: the newest) extends the one of `earlier`."""
    days = sealed_days(store)
    by_day = {sealed.day: index for index, sealed in enumerate(days)}
    if earlier not in by_day:
        raise NotSealed(f"{earlier} has no signed seal")
    last = len(days) - 1 if later is None else by_day.get(later)
    if last is None:
        raise NotSealed(f"{later} has no signed seal")
    first = by_day[earlier]
    if last < first:
        raise NotSealed(f"{later} comes before {earlier}")
    leaves = [sealed.head.body.leaf() for sealed in days[:last + 1]]
    old, new = days[first].head, days[last].head
    path = consistency_proof(leaves, old.body.tree_size) if old.body.tree_size < len(leaves) else []
    return ConsistencyProof(old, new, path)
