"""封印: a SHA-256 chain over the stored log, one seal a day, and its verification.

Each day's seal covers the log positions after the previous seal up to the last event recorded
before the day ended (JST), hashing each stored row's raw bytes (ID, version, topic, state). Days
missed are sealed in one pass, in order, before any seal is written, so a seal written during a
catch-up never splits a day. ``verify_seals`` recomputes everything from the table itself and
names the first event that no longer matches.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from ledger import clock
from ledger.actors import Actor
from ledger.application import Ledger
from ledger.domain.settlement import (
    DIGEST_PREFIX_BYTES,
    GENESIS_HASH,
    DailySeal,
    LineSet,
    SealHead,
    check_day_over,
    check_job_actor,
    digest_prefix_lines,
    event_digest,
    seal_hash,
    start_of_day,
)
from ledger.errors import InvalidState
from projections.jobs.projection import catch_up as project_decisions
from projections.jobs.rawlog import (
    RawEvent,
    count_after,
    iter_raw,
    positions_with_topic,
    raw_at,
)
from projections.store import ReadStore, as_date

# A seal stored before the settlement aggregates had a module each has the package's topic.
SEAL_TOPICS = (get_topic(DailySeal.Sealed), "ledger.domain.settlement:DailySeal.Sealed")


@dataclass
class _Day:
    day: date
    last_position: int | None = None
    count: int = 0
    hasher: Any = field(default_factory=hashlib.sha256)
    prefixes: bytearray = field(default_factory=bytearray)

    def add(self, raw: RawEvent) -> None:
        digest = event_digest(raw.originator_id, raw.version, raw.topic, raw.state)
        self.hasher.update(digest)
        self.prefixes += digest[:DIGEST_PREFIX_BYTES]
        self.count += 1
        self.last_position = raw.position


def seal_days(ledger: Ledger, store: ReadStore, through: date, actor: Actor) -> dict[str, Any]:
    """Seal every day after the last seal up to `through` (just `through` if there is none)."""
    check_job_actor(actor)
    check_day_over(through, clock.now(), field="day")
    project_decisions(ledger, store)
    head = last_seal(store)
    if head is not None and head.day >= through:
        return {"sealed": 0, "events": 0, "last_sealed_day": head.day.isoformat()}
    if head is None:
        days = [through]
    else:
        days = [head.day + timedelta(days=k) for k in range(1, (through - head.day).days + 1)]
    accumulated = _scan(ledger.mapper, store, 0 if head is None else head.last_position, days)
    now = clock.now()
    previous, last_position, seals = head, 0 if head is None else head.last_position, []
    for day in accumulated:
        last_position = day.last_position if day.last_position is not None else last_position
        prefixes = ledger.store_lines(digest_prefix_lines(day.prefixes), actor)
        seal = DailySeal.seal(day.day, previous, last_position, day.count,
                              day.hasher.hexdigest(), prefixes, actor, now)
        seals.append(seal)
        previous = seal.head
    # One transaction (up to 1,000 days): the chain grows by whole days or not at all.
    ledger.seal_days(seals)
    project_decisions(ledger, store)
    return {"sealed": len(seals), "events": sum(d.count for d in accumulated),
            "last_sealed_day": days[-1].isoformat()}


def _stored_prefixes(ledger: Ledger, seal_id: UUID, line_set: LineSet) -> bytes:
    return b"".join(base64.b64decode(line[0]) for line in ledger.lines_of(seal_id, line_set))


def last_seal(store: ReadStore) -> SealHead | None:
    with store.read() as tx:
        rows = tx.execute("SELECT day, last_position, seal_hash FROM daily_seals "
                          "ORDER BY day DESC LIMIT 1")
    if not rows:
        return None
    day = as_date(rows[0][0])
    assert day is not None
    return SealHead(day, int(rows[0][1]), rows[0][2])


def _scan(mapper: Mapper[Any], store: ReadStore, after: int, days: list[date]) -> list[_Day]:
    """Give each event after `after` to the first day it was not recorded after, stopping at the
    first event recorded after the last day."""
    accumulated = [_Day(day) for day in days]
    ends = [start_of_day(day + timedelta(days=1)) for day in days]
    k = 0
    for raw in iter_raw(store, after):
        recorded_at = _recorded_at(mapper, raw.state)
        while recorded_at >= ends[k]:
            k += 1
            if k == len(days):
                return accumulated
        accumulated[k].add(raw)
    return accumulated


def _recorded_at(mapper: Mapper[Any], state: bytes) -> datetime:
    """The event's timestamp, without building the event object (the library's own steps)."""
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    timestamp = mapper.transcoder.decode(state)["timestamp"]
    assert isinstance(timestamp, datetime)
    return timestamp


# -- verification --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mismatch:
    day: date | None
    position: int | None
    reason: str
    originator_id: str | None = None
    version: int | None = None
    topic: str | None = None

    def __str__(self) -> str:
        where = f"position {self.position}" if self.position is not None else "no single event"
        what = (f" ({self.topic} {self.originator_id} v{self.version})"
                if self.topic is not None else "")
        return f"{where}{what}, sealed on {self.day}: {self.reason}"


@dataclass(frozen=True)
class Verification:
    seals_checked: int
    events_checked: int
    first_mismatch: Mismatch | None
    last_sealed_day: date | None
    unsealed_events: int

    @property
    def ok(self) -> bool:
        return self.first_mismatch is None


@dataclass(frozen=True)
class _Seal:
    position: int
    day: date
    state: dict[str, Any]


def verify_seals(ledger: Ledger, store: ReadStore, from_day: date | None = None) -> Verification:
    """Recompute the chain from the stored rows (from the seal of `from_day` on, trusting the
    link to the seal before it) and report the first event that no longer matches."""
    seals, broken = _stored_seals(ledger.mapper, store)
    if broken is not None:
        return Verification(0, 0, broken, None, 0)
    start = next((i for i, s in enumerate(seals) if from_day is None or s.day >= from_day),
                 len(seals))
    events = 0
    for index in range(start, len(seals)):
        seal = seals[index]
        problem = _check_link(seal, seals[index - 1] if index else None)
        if problem is None:
            problem, counted = _check_events(ledger, store, seal)
            events += counted
        if problem is not None:
            return Verification(index - start + 1, events, problem, seal.day, 0)
    last = seals[-1] if seals else None
    unsealed = count_after(store, last.state["last_position"] if last else 0)
    return Verification(len(seals) - start, events, None, last.day if last else None,
                        unsealed)


def _stored_seals(mapper: Mapper[Any], store: ReadStore) -> tuple[list[_Seal], Mismatch | None]:
    """Every seal, decoded from its stored row, without its per-event digests (read again when
    its day is checked): a year of seals stays small in memory."""
    seals = []
    for position in sorted(p for topic in SEAL_TOPICS for p in positions_with_topic(store, topic)):
        state, broken = _decode_seal(mapper, raw_at(store, position))
        if broken is not None:
            return [], broken
        state.pop("event_digests")
        seals.append(_Seal(position, state["day"], state))
    return sorted(seals, key=lambda s: s.day), None


def _decode_seal(mapper: Mapper[Any], raw: RawEvent) -> tuple[dict[str, Any], Mismatch | None]:
    try:
        event = mapper.to_domain_event(
            StoredEvent(raw.originator_id, raw.version, raw.topic, raw.state))
    except Exception as error:  # an altered seal row may not even decode
        return {}, Mismatch(None, raw.position, f"the seal itself does not decode: {error}",
                            str(raw.originator_id), raw.version, raw.topic)
    return dict(vars(event)), None


def _check_link(seal: _Seal, previous: _Seal | None) -> Mismatch | None:
    s = seal.state
    expected_previous = GENESIS_HASH if previous is None else previous.state["seal_hash"]
    expected_first = 0 if previous is None else previous.state["last_position"]
    if previous is not None and seal.day != previous.day + timedelta(days=1):
        return Mismatch(seal.day, seal.position, f"the chain skips from {previous.day}")
    if s["previous_hash"] != expected_previous or s["first_position"] != expected_first:
        return Mismatch(seal.day, seal.position, "the seal does not follow the previous seal")
    recomputed = seal_hash(s["previous_hash"], seal.day, s["first_position"], s["last_position"],
                           s["event_count"], s["events_digest"])
    if recomputed != s["seal_hash"]:
        return Mismatch(seal.day, seal.position, "the seal's hash does not match its contents")
    return None


def _check_events(
    ledger: Ledger, store: ReadStore, seal: _Seal
) -> tuple[Mismatch | None, int]:
    s = seal.state
    full, broken = _decode_seal(ledger.mapper, raw_at(store, seal.position))
    if broken is not None:  # changed since it was first read
        return broken, 0
    try:
        prefixes = _stored_prefixes(ledger, full["originator_id"],
                                    LineSet.from_dict(full["event_digests"]))
    except InvalidState as error:
        return Mismatch(seal.day, seal.position, f"its event digests: {error}"), 0
    hasher = hashlib.sha256()
    index = 0
    for raw in iter_raw(store, s["first_position"], s["last_position"]):
        digest = event_digest(raw.originator_id, raw.version, raw.topic, raw.state)
        at = index * DIGEST_PREFIX_BYTES
        if digest[:DIGEST_PREFIX_BYTES] != prefixes[at:at + DIGEST_PREFIX_BYTES]:
            reason = ("was not sealed" if index >= s["event_count"]
                      else "its stored bytes differ from what was sealed (or an event before "
                           "it in the same seal is missing)")
            return Mismatch(seal.day, raw.position, reason, str(raw.originator_id), raw.version,
                            raw.topic), index
        hasher.update(digest)
        index += 1
    if index != s["event_count"]:
        return Mismatch(seal.day, None, f"{s['event_count'] - index} sealed event(s) are missing "
                        f"at the end of ({s['first_position']}, {s['last_position']}]"), index
    if hasher.hexdigest() != s["events_digest"]:
        return Mismatch(seal.day, None, "the day's digest differs, though every event's prefix "
                        "matches"), index
    return None, index
