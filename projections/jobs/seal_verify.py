"""`ledger verify`: the seals recomputed from the stored rows, and every copy of them compared.

Trust no single copy. The chain is recomputed from the event table itself (each day's leaves,
runs and root; each head's signature, its link to the previous head and the log of heads), then
the seal events are compared with the seal table (a read model that an intruder deleting the
newest seal event forgets to change) and with each witness copy (files outside the database, or
another ledger's ``/v1/seals``). Signatures are checked against keys the database does not hold:
the key file's public half, keys given on the command line, and the keys these vouch for by
rotation statements.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.persistence import Mapper, StoredEvent

from ledger.application import Ledger
from ledger.domain.settlement import (
    DIGEST_PREFIX_BYTES,
    GENESIS_HASH,
    LineSet,
    event_digest,
    seal_hash,
)
from ledger.domain.settlement.heads import (
    KeyRing,
    KeyStatement,
    SignatureError,
    SignedHead,
    public_key_bytes,
)
from ledger.domain.settlement.merkle import root_of
from ledger.errors import InvalidState
from ledger.storage import seal_key
from ledger.storage.witness import WitnessCopy, WitnessDirectory
from projections.jobs.rawlog import RawEvent, count_after, iter_raw, positions_with_topic, raw_at
from projections.jobs.seal import SEAL_TOPICS, DayTree, leaf_of, stored_bytes
from projections.settlement import NAME as JOBS_PROJECTION
from projections.store import ReadStore, as_date


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
    problems: list[str] = field(default_factory=list)  # copies that disagree, named
    notes: list[str] = field(default_factory=list)  # what was compared, and what was not
    signed_seals: int = 0
    trusted_keys: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_mismatch is None and not self.problems


@dataclass(frozen=True)
class _Seal:
    position: int
    day: date
    state: dict[str, Any]

    @property
    def signed(self) -> SignedHead | None:
        if self.state.get("head") is None:
            return None
        return SignedHead.from_dict({"head": self.state["head"],
                                     "signature": self.state["signature"]})


def verify_seals(
    ledger: Ledger,
    store: ReadStore,
    from_day: date | None = None,
    *,
    public_keys: list[bytes] | None = None,
    witnesses: list[WitnessCopy] | None = None,
) -> Verification:
    """Recompute the chain from the stored rows (from the seal of `from_day` on, trusting the
    link to the seal before it), report the first event that no longer matches, and compare
    the seal events with the seal table and every witness copy (the ledger's own witness
    directory, and `witnesses` given)."""
    seals, broken = _stored_seals(ledger.mapper, store)
    if broken is not None:
        return Verification(0, 0, broken, None, 0)
    own = WitnessDirectory(ledger.settings.witness_path).read()  # read once: keys and heads
    ring, trust_notes = _key_ring(ledger, own, public_keys or [], witnesses or [])
    start = next((i for i, s in enumerate(seals) if from_day is None or s.day >= from_day),
                 len(seals))
    events, head_leaves, signed = 0, [], 0
    for index, seal in enumerate(seals):
        head = seal.signed
        if index < start:  # trusted as the starting point: only its leaf is needed
            if head is not None:
                head_leaves.append(head.body.leaf())
            continue
        problem = _check_link(seal, seals[index - 1] if index else None)
        if problem is None and head is not None:
            problem = _check_head(seal, head, ring, head_leaves)
            signed += 1
        if problem is None:
            problem, counted = _check_events(ledger, store, seal)
            events += counted
        if problem is not None:
            return Verification(index - start + 1, events, problem, seal.day, 0,
                                 trusted_keys=ring.key_ids)
    last = seals[-1] if seals else None
    unsealed = count_after(store, last.state["last_position"] if last else 0)
    problems, notes = _cross_check(store, seals, ring, own, witnesses or [])
    return Verification(len(seals) - start, events, None, last.day if last else None,
                        unsealed, problems, trust_notes + notes, signed, ring.key_ids)


# -- keys ----------------------------------------------------------------------------------------
def _key_ring(
    ledger: Ledger, own: WitnessCopy, public_keys: list[bytes], witnesses: list[WitnessCopy]
) -> tuple[KeyRing, list[str]]:
    """Anchors from outside the database (the key file, keys given, the first key statement in
    the ledger's witness), joined by every rotation statement whose signatures hold."""
    anchors, notes = list(public_keys), []
    path = ledger.settings.seal_key_path
    if path.exists():
        try:
            anchors.append(public_key_bytes(seal_key.load(path)))
        except InvalidState as error:
            notes.append(f"the key file was not used: {error.message}")
    keys = ledger.seal_keys()  # the log's statements, each checked once (a row may be altered)
    statements = [] if keys is None else [s for s in keys.statements if _holds(s)]
    for copy in [own, *witnesses]:
        for raw in copy.keys:
            try:
                statement = KeyStatement.from_dict(raw)
                statement.check()
            except SignatureError as error:
                notes.append(f"witness {copy.source}: a key statement is not usable: {error}")
                continue
            statements.append(statement)
            if statement.previous_key_id is None and copy is own:
                anchors.append(base64.b64decode(statement.public_key))
    unique = {s.key_id: s for s in statements}
    return KeyRing(anchors, list(unique.values())), notes


def _holds(statement: KeyStatement) -> bool:
    try:
        statement.check()
    except SignatureError:
        return False
    return True


# -- one seal ------------------------------------------------------------------------------------
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
    if s.get("head") is None:
        recomputed = seal_hash(s["previous_hash"], seal.day, s["first_position"],
                               s["last_position"], s["event_count"], s["events_digest"])
        if recomputed != s["seal_hash"]:
            return Mismatch(seal.day, seal.position, "the seal's hash does not match its contents")
    return None


def _check_head(
    seal: _Seal, head: SignedHead, ring: KeyRing, head_leaves: list[bytes]
) -> Mismatch | None:
    """A signed seal: its head describes it, is signed by a trusted key, and extends the log of
    heads (`head_leaves`, the earlier signed days' leaves, gains this day's)."""
    s, body = seal.state, head.body
    if body.head_hash != s["seal_hash"]:
        return Mismatch(seal.day, seal.position, "the seal's hash is not its signed head's")
    described = (body.day, body.previous_head_hash, body.first_position, body.last_position,
                 body.event_count, body.day_root)
    if described != (seal.day, s["previous_hash"], s["first_position"], s["last_position"],
                     s["event_count"], s["events_digest"]):
        return Mismatch(seal.day, seal.position, "the signed head does not describe the seal")
    try:
        head.verify(ring)
    except SignatureError as error:
        return Mismatch(seal.day, seal.position, str(error))
    head_leaves.append(body.leaf())
    if body.tree_size != len(head_leaves) or body.log_root != root_of(head_leaves).hex():
        return Mismatch(seal.day, seal.position, "the head's log of heads is not the log of the "
                        f"{len(head_leaves)} signed head(s) up to it (a head was removed, added "
                        "or changed before it)")
    return None


def _check_events(ledger: Ledger, store: ReadStore, seal: _Seal) -> tuple[Mismatch | None, int]:
    s = seal.state
    full, broken = _decode_seal(ledger.mapper, raw_at(store, seal.position))
    if broken is not None:  # changed since it was first read
        return broken, 0
    try:
        prefixes = stored_bytes(ledger, full["originator_id"],
                                LineSet.from_dict(full["event_digests"]))
    except InvalidState as error:
        return Mismatch(seal.day, seal.position, f"its event digests: {error}"), 0
    signed = s.get("head") is not None
    hasher, tree, index = hashlib.sha256(), DayTree(), 0
    for raw in iter_raw(store, s["first_position"], s["last_position"]):
        if signed:
            digest = _leaf_or_none(ledger.mapper, raw)
        else:
            digest = event_digest(raw.originator_id, raw.version, raw.topic, raw.state)
        at = index * DIGEST_PREFIX_BYTES
        if digest is None or digest[:DIGEST_PREFIX_BYTES] != prefixes[at:at + DIGEST_PREFIX_BYTES]:
            reason = ("was not sealed" if index >= s["event_count"]
                      else "its stored bytes differ from what was sealed (or an event before "
                           "it in the same seal is missing)")
            return Mismatch(seal.day, raw.position, reason, str(raw.originator_id), raw.version,
                            raw.topic), index
        if signed:
            tree.add(raw.position, digest)
        else:
            hasher.update(digest)
        index += 1
    if index != s["event_count"]:
        return Mismatch(seal.day, None, f"{s['event_count'] - index} sealed event(s) are missing "
                        f"at the end of ({s['first_position']}, {s['last_position']}]"), index
    digest_hex = tree.root().hex() if signed else hasher.hexdigest()
    if digest_hex != s["events_digest"]:
        return Mismatch(seal.day, None, "the day's digest differs, though every event's prefix "
                        "matches"), index
    if signed and _stored_runs(ledger, full) != b"".join(tree.roots()):
        return Mismatch(seal.day, seal.position, "the roots of its leaf runs kept beside the log "
                        "differ from the events' (proofs for that day would fail)"), index
    return None, index


def _leaf_or_none(mapper: Mapper[Any], raw: RawEvent) -> bytes | None:
    try:
        return leaf_of(mapper, raw)[0]
    except Exception:  # an altered encrypted row does not even decrypt
        return None


def _stored_runs(ledger: Ledger, full: dict[str, Any]) -> bytes | None:
    try:
        return stored_bytes(ledger, full["originator_id"], LineSet.from_dict(full["chunk_roots"]))
    except (InvalidState, KeyError, TypeError):
        return None


# -- the copies ----------------------------------------------------------------------------------
def _cross_check(
    store: ReadStore, seals: list[_Seal], ring: KeyRing, own: WitnessCopy,
    witnesses: list[WitnessCopy],
) -> tuple[list[str], list[str]]:
    by_day = {seal.day: seal for seal in seals}
    problems, notes = _against_table(store, by_day)
    signed_days = sorted(day for day, seal in by_day.items() if seal.signed is not None)
    for copy, required in [(own, True), *((w, False) for w in witnesses)]:
        found, seen = _against_witness(copy, by_day, ring, signed_days, required)
        problems += found
        notes += seen
    return problems, notes


def _against_table(store: ReadStore, by_day: dict[date, _Seal]) -> tuple[list[str], list[str]]:
    with store.read() as tx:
        rows = tx.execute("SELECT day, seal_hash, position FROM daily_seals ORDER BY day")
        position_rows = tx.execute("SELECT position FROM projection_positions WHERE name = %s",
                                   [JOBS_PROJECTION])
    projected_to = int(position_rows[0][0]) if position_rows else 0
    problems = []
    table = {}
    for day_value, hash_, position in rows:
        day = as_date(day_value)
        assert day is not None
        table[day] = hash_
        seal = by_day.get(day)
        if seal is None:
            problems.append(f"the seal table lists {day} (sealed at position {position}), but "
                            "the log holds no seal for that day: its seal event was deleted")
        elif seal.state["seal_hash"] != hash_:
            problems.append(f"the seal table's hash for {day} differs from the seal event's")
    for day, seal in by_day.items():
        if day not in table and seal.position <= projected_to:
            problems.append(f"the seal of {day} (position {seal.position}) is missing from the "
                            "seal table, though its projection has passed it")
    return problems, [f"seal table: {len(table)} row(s) compared with the log"]


def _against_witness(
    copy: WitnessCopy, by_day: dict[date, _Seal], ring: KeyRing, signed_days: list[date],
    required: bool,
) -> tuple[list[str], list[str]]:
    where = f"witness {copy.source}"
    problems = [f"{where}: unreadable file {name}" for name in copy.unreadable]
    for day, raw in sorted(copy.heads.items()):
        try:
            head = SignedHead.from_dict(raw)
            if head.body.day != day:
                raise SignatureError(f"the file for {day} holds the head of {head.body.day}")
            head.verify(ring)
        except SignatureError as error:
            problems.append(f"{where}: {error} (the witness copy was altered)")
            continue
        seal = by_day.get(day)
        if seal is None:
            problems.append(f"{where} holds a signed head for {day} that the log lacks: the "
                            "seal was deleted, or the log truncated after it")
        elif seal.state["seal_hash"] != head.body.head_hash:
            problems.append(f"{where}: the head of {day} differs from the log's seal (the seal "
                            "was replaced)")
    missing = [day for day in signed_days if day not in copy.heads]
    newest = max(copy.heads, default=None)
    inside = [day for day in missing if newest is not None and day < newest]
    if inside:
        problems.append(f"{where} lacks the heads of {_days(inside)}, between heads it holds")
    tail = [day for day in missing if day not in inside]
    notes = [f"{where}: {len(copy.heads)} signed head(s) compared"]
    if tail and required:
        notes.append(f"{where} does not hold the heads of {_days(tail)} yet (run `ledger seal` "
                     "or start the service to write them)")
    elif tail:
        notes.append(f"{where} does not hold the heads of {_days(tail)} (an older copy?)")
    return problems, notes


def _days(days: list[date]) -> str:
    if len(days) <= 3:
        return ", ".join(d.isoformat() for d in days)
    return f"{days[0]} … {days[-1]} ({len(days)} days)"


def read_public_key(path: Path) -> bytes:
    """A public key file as `ledger seal-key show` writes it: PEM, or base64 of the raw 32
    bytes."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    text = path.read_bytes()
    if b"BEGIN" in text:
        key = load_pem_public_key(text)
        if not isinstance(key, Ed25519PublicKey):
            raise InvalidState("public_key", "seal.public_key", f"{path} is not an Ed25519 key")
        return public_key_bytes(key)
    raw = base64.b64decode(text.strip())
    if len(raw) != 32:
        raise InvalidState("public_key", "seal.public_key", f"{path} is not a 32-byte key")
    return raw


def json_of(verification: Verification) -> bytes:
    return orjson.dumps({"ok": verification.ok, "problems": verification.problems,
                         "notes": verification.notes})
