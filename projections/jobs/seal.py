"""封印: one signed seal a day over the stored log, and its verification.

Each day's seal covers the log positions after the previous seal up to the last event recorded
before the day ended (JST). Its head (``ledger.domain.settlement.heads``) holds the RFC 6962
Merkle root over the day's events, each a leaf of its stored row and its plain state; the hash
of the previous day's head; and the root of the log of heads. The head is signed with the seal
key (a file, never in the database) and written to the witness directory. Days missed are sealed
in one pass, in order, before any seal is written, so a seal written during a catch-up never
splits a day. ``verify_seals`` (``projections.jobs.seal_verify``) recomputes everything from
the table itself and cross-checks every copy of the heads.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import Mapper
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
    SealKeys,
    check_day_over,
    check_job_actor,
    digest_prefix_lines,
    start_of_day,
)
from ledger.domain.settlement.heads import (
    CHUNK_LEAVES,
    HeadBody,
    KeyStatement,
    SignedHead,
    event_leaf_hash,
    key_id_of,
    public_key_bytes,
)
from ledger.domain.settlement.merkle import MerkleAccumulator, root_of
from ledger.errors import InvalidState
from ledger.storage import seal_key
from ledger.storage.tap_events import unsealed
from ledger.storage.witness import WitnessDirectory
from projections.jobs.rawlog import (
    RawEvent,
    iter_raw,
)
from projections.settlement import catch_up as project_decisions
from projections.store import ReadStore, as_date

LOG = logging.getLogger(__name__)
# A seal stored before the settlement aggregates had a module each has the package's topic.
SEAL_TOPICS = (get_topic(DailySeal.Sealed), "ledger.domain.settlement:DailySeal.Sealed")


ROOTS_PER_LINE = 1024  # roots of leaf runs per line beside the log (32 bytes each)


@dataclass
class DayTree:
    """A day's leaves as they stream past: the first bytes of each (to point at a changed
    event), the roots of its aligned runs of CHUNK_LEAVES, and so the day's root."""

    last_position: int | None = None
    count: int = 0
    prefixes: bytearray = field(default_factory=bytearray)
    run_roots: list[bytes] = field(default_factory=list)
    run: MerkleAccumulator = field(default_factory=MerkleAccumulator)

    def add(self, position: int, leaf: bytes) -> None:
        self.prefixes += leaf[:DIGEST_PREFIX_BYTES]
        self.run.add(leaf)
        if self.run.size == CHUNK_LEAVES:
            self.run_roots.append(self.run.root())
            self.run = MerkleAccumulator()
        self.count += 1
        self.last_position = position

    def roots(self) -> list[bytes]:
        return self.run_roots + ([self.run.root()] if self.run.size else [])

    def root(self) -> bytes:
        return root_of(self.roots())


@dataclass
class _Day:
    day: date
    tree: DayTree = field(default_factory=DayTree)

    @property
    def count(self) -> int:
        return self.tree.count


def run_root_lines(roots: list[bytes]) -> Iterator[list[str]]:
    for at in range(0, len(roots), ROOTS_PER_LINE):
        yield [base64.b64encode(b"".join(roots[at:at + ROOTS_PER_LINE])).decode()]


def plain_state(mapper: Mapper[Any], state: bytes) -> bytes:
    """The transcoded state before compression and encryption (the library's own steps)."""
    return unsealed(mapper, state)


def leaf_of(mapper: Mapper[Any], raw: RawEvent) -> tuple[bytes, bytes]:
    """(the event's leaf hash, its plain state)."""
    plain = plain_state(mapper, raw.state)
    return event_leaf_hash(raw.originator_id, raw.version, raw.topic, raw.state, plain), plain


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
    key, new_key = signing_key(ledger, days[0], actor)
    head_leaves = [h.body.leaf() for h in signed_heads(store)]
    accumulated = _scan(ledger.mapper, store, 0 if head is None else head.last_position, days)
    now = clock.now()
    previous, last_position, seals = head, 0 if head is None else head.last_position, []
    for day in accumulated:
        tree = day.tree
        last_position = tree.last_position if tree.last_position is not None else last_position
        prefixes = ledger.store_lines(digest_prefix_lines(tree.prefixes), actor)
        run_roots = ledger.store_lines(run_root_lines(tree.roots()), actor)
        first_position = 0 if previous is None else previous.last_position
        body = HeadBody(
            day=day.day, first_position=first_position, last_position=last_position,
            event_count=tree.count, day_root=tree.root().hex(),
            previous_head_hash=GENESIS_HASH if previous is None else previous.seal_hash,
            tree_size=len(head_leaves) + 1, log_root="", key_id=key_id_of(public_key_bytes(key)))
        head_leaves.append(body.leaf())
        body = HeadBody(**{**body.__dict__, "log_root": root_of(head_leaves).hex()})
        seal = DailySeal.seal(day.day, previous, last_position, tree.count, body.day_root,
                              prefixes, actor, now, SignedHead.sign(body, key), run_roots)
        seals.append(seal)
        previous = seal.head
    # One transaction (up to 1,000 days): the chain grows by whole days or not at all.
    ledger.seal_days(seals, new_key)
    project_decisions(ledger, store)
    witnessed = sync_witness(ledger, store)
    return {"sealed": len(seals), "events": sum(d.count for d in accumulated),
            "last_sealed_day": days[-1].isoformat(), "witnessed": witnessed}


def signing_key(
    ledger: Ledger, first_day: date, actor: Actor
) -> tuple[Ed25519PrivateKey, SealKeys | None]:
    """The key file's key, and its statement to record with the seals the first time it signs
    (None after that). A key file that
    holds another key than the log's current one is refused: a lost or swapped key file must
    not start a second, unconnected chain of signatures (rotate with `ledger seal-key rotate`)."""
    key = seal_key.load_or_create(ledger.settings.seal_key_path)
    key_id = key_id_of(public_key_bytes(key))
    keys = ledger.seal_keys()
    if keys is None:
        return key, ledger.introduce_seal_key(KeyStatement.introduce(key, first_day), actor,
                                              save=False)
    if keys.current.key_id != key_id and _finish_rotation(ledger.settings.seal_key_path,
                                                          keys.current.key_id):
        key, key_id = seal_key.load(ledger.settings.seal_key_path), keys.current.key_id
    if keys.current.key_id != key_id:
        raise InvalidState("seal_key_file", "seal.key_chain",
                           f"{ledger.settings.seal_key_path} holds key {key_id}, but the ledger's "
                           f"seal key is {keys.current.key_id}; restore that key file, or "
                           "introduce a new key with `ledger seal-key rotate`")
    return key, None


def _finish_rotation(path: Path, current_key_id: str) -> bool:
    """A rotation that recorded its statement but stopped before the key file was replaced:
    the staged key is the log's current one, so finish it."""
    staged = seal_key.staged_path(path)
    if staged.exists() and key_id_of(public_key_bytes(seal_key.load(staged))) == current_key_id:
        seal_key.promote(path)
        return True
    return False


def rotate_seal_key(ledger: Ledger, store: ReadStore, actor: Actor) -> KeyStatement:
    """A new seal key from the next unsealed day on, introduced by a statement that the current
    key and the new one both sign; recorded in the log, then the key file is replaced (the old
    one kept beside it as ``.retired-<key id>``) and the statement written to the witness."""
    check_job_actor(actor)
    path = ledger.settings.seal_key_path
    keys = ledger.seal_keys()
    if keys is None:
        raise InvalidState("seal_key_file", "seal.key_chain", "no key has signed a seal yet: "
                           "the first seal introduces the key file's key")
    old = seal_key.load(path)
    if key_id_of(public_key_bytes(old)) != keys.current.key_id:
        if not _finish_rotation(path, keys.current.key_id):
            raise InvalidState("seal_key_file", "seal.key_chain",
                               f"{path} does not hold the ledger's seal key "
                               f"{keys.current.key_id}; only that key can introduce the next")
        old = seal_key.load(path)
    project_decisions(ledger, store)
    head = last_seal(store)
    from_day = head.day + timedelta(days=1) if head is not None else clock.work_date_of(
        clock.now())
    new = seal_key.stage(path)
    statement = KeyStatement.introduce(new, from_day, previous=old)
    ledger.introduce_seal_key(statement, actor)
    seal_key.promote(path)
    WitnessDirectory(ledger.settings.witness_path).write_key(statement)
    return statement


def prepare_seals(ledger: Ledger, store: ReadStore) -> None:
    """At the service's start: make the seal key file if there is none (0600), and write to the
    witness any head it lacks (a seal whose process stopped before writing its file). Nothing
    here stops the service from starting (it must still take taps, and answer /v1/ready while
    the database is down): a failure is logged as an error, the seal job fails loudly on it, and
    `ledger verify` names a witness that disagrees with the log."""
    try:
        seal_key.load_or_create(ledger.settings.seal_key_path)
        written = sync_witness(ledger, store)
    except InvalidState as error:
        LOG.error("seals: %s", error.message)
        return
    except Exception as error:  # the database may not answer yet; the next seal syncs
        LOG.error("seals: the witness could not be brought up to date at start: %s", error)
        return
    if written:
        LOG.info("wrote %d missing file(s) to the seal witness %s", written,
                 ledger.settings.witness_path)


def signed_heads(store: ReadStore) -> list[SignedHead]:
    """Every signed head in the seal table, by day."""
    with store.read() as tx:
        rows = tx.execute("SELECT head, signature FROM daily_seals WHERE head IS NOT NULL "
                          "ORDER BY day")
    return [SignedHead.from_dict({"head": orjson.loads(head), "signature": signature})
            for head, signature in rows]


def sync_witness(ledger: Ledger, store: ReadStore) -> int:
    """Write every key statement and signed head the witness lacks; return how many files were
    new. A crash between a seal's commit and its witness file is healed on the next call."""
    witness = WitnessDirectory(ledger.settings.witness_path)
    written = 0
    keys = ledger.seal_keys()
    for statement in [] if keys is None else keys.statements:
        written += witness.write_key(statement)
    for head in signed_heads(store):
        written += witness.write_head(head)
    return written


def stored_bytes(ledger: Ledger, seal_id: UUID, line_set: LineSet) -> bytes:
    """The bytes a seal keeps in lines beside the log (digest prefixes, or roots of leaf runs)."""
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
        leaf, plain = leaf_of(mapper, raw)
        recorded_at = _recorded_at(mapper, plain)
        while recorded_at >= ends[k]:
            k += 1
            if k == len(days):
                return accumulated
        accumulated[k].tree.add(raw.position, leaf)
    return accumulated


def _recorded_at(mapper: Mapper[Any], plain: bytes) -> datetime:
    """The event's timestamp, without building the event object."""
    timestamp = mapper.transcoder.decode(plain)["timestamp"]
    assert isinstance(timestamp, datetime)
    return timestamp
