"""封印: the daily seal of the log, a SHA-256 chain over every stored event."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import event

from ledger.actors import Actor
from ledger.domain.base import LedgerAggregate, require_date
from ledger.domain.settlement.heads import KeyStatement, SignatureError, SignedHead
from ledger.domain.settlement.rules import (
    LineSet,
    check_day_over,
    check_job_actor,
    line_set_of,
)
from ledger.errors import InvalidState, InvalidValue
from ledger.ids import aggregate_id

GENESIS_HASH = "0" * 64
DIGEST_PREFIX_BYTES = 4  # per-event digest prefix a seal keeps, to locate a changed event
DIGEST_PREFIXES_PER_LINE = 1024  # prefixes per line of a seal's event digests


# -- 封印: daily seal -----------------------------------------------------------------------------
def event_digest(originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """SHA-256 of one stored event's raw bytes. Each part is length-prefixed so that bytes cannot
    move from one field to the next unnoticed; the ID is its 16 bytes, the same on either
    database whatever text form it is stored in."""
    topic_bytes = topic.encode()
    return hashlib.sha256(
        originator_id.bytes + version.to_bytes(8, "big", signed=True)
        + len(topic_bytes).to_bytes(4, "big") + topic_bytes
        + len(state).to_bytes(8, "big") + state
    ).digest()


def seal_hash(
    previous_hash: str, day: date, first_position: int, last_position: int, event_count: int,
    events_digest: str,
) -> str:
    """The chain link: the previous seal's hash and this day's range and digest."""
    text = f"{previous_hash}|{day.isoformat()}|{first_position}|{last_position}|{event_count}|"
    return hashlib.sha256(f"{text}{events_digest}".encode()).hexdigest()


def daily_seal_id(day: date) -> UUID:
    return aggregate_id("daily-seal", day.isoformat())


@dataclass(frozen=True)
class SealHead:
    """The last seal of the chain, which the next one follows."""

    day: date
    last_position: int
    seal_hash: str


def digest_prefix_lines(prefixes: bytes | bytearray) -> Iterator[list[str]]:
    """A day's digest prefixes as lines: base64 of DIGEST_PREFIXES_PER_LINE events each."""
    step = DIGEST_PREFIXES_PER_LINE * DIGEST_PREFIX_BYTES
    for at in range(0, len(prefixes), step):
        yield [base64.b64encode(prefixes[at:at + step]).decode()]


def seal_embedded_lines(state: dict[str, Any]) -> list[list[list[Any]]]:
    """The lines a version-1 ``Sealed`` state carried (its base64 string of every prefix);
    none for a state in the new shape (written before the event had a version number)."""
    embedded = state["event_digests"]
    if not isinstance(embedded, str):
        return []
    return [list(digest_prefix_lines(base64.b64decode(embedded)))]


class DailySeal(LedgerAggregate):
    """封印 of one day: the SHA-256 over every event recorded that day, chained to the previous
    day's seal. It covers the log positions after the previous seal's last one up to the last
    event recorded before the day's end (JST), so the seals cover every event exactly once.

    ``event_digests`` names lines beside the log (``ledger.storage.lines``) that keep the first
    bytes of each event's digest (base64, DIGEST_PREFIXES_PER_LINE events a line), enough to
    point at the first changed event; the chained hash is what proves integrity. Kept out of
    the event, a day of a million events still seals in an event of a few hundred bytes.
    """

    @staticmethod
    def create_id(day: date, **_: Any) -> UUID:
        return daily_seal_id(day)

    @classmethod
    def seal(
        cls,
        day: date,
        previous: SealHead | None,
        last_position: int,
        event_count: int,
        events_digest: str,
        event_digests: LineSet,
        actor: Actor,
        now: datetime,
        signed: SignedHead | None = None,
        chunk_roots: LineSet | None = None,
    ) -> DailySeal:
        """A signed seal (`signed` given, with the roots of its day's leaf runs) is one whose
        hash is its signed head's; an unsigned one is the SHA-256 chain link of version 2."""
        check_job_actor(actor)
        check_day_over(require_date(day, "day"), now, field="day")
        first_position = 0 if previous is None else previous.last_position
        cls.check_follows(previous, day, first_position, last_position, event_count)
        previous_hash = GENESIS_HASH if previous is None else previous.seal_hash
        if signed is None:
            hash_ = seal_hash(previous_hash, day, first_position, last_position, event_count,
                              events_digest)
        else:
            cls.check_head(signed, day, previous_hash, first_position, last_position,
                           event_count, events_digest, chunk_roots)
            hash_ = signed.body.head_hash
        return cast(DailySeal, cls(
            day=day, previous_day=None if previous is None else previous.day,
            previous_hash=previous_hash, first_position=first_position,
            last_position=last_position, event_count=event_count, events_digest=events_digest,
            event_digests=event_digests.as_dict(), seal_hash=hash_, actor=actor, sealed_at=now,
            head=None if signed is None else signed.body.as_dict(),
            signature=None if signed is None else signed.signature,
            chunk_roots=None if chunk_roots is None else chunk_roots.as_dict(),
        ))

    @staticmethod
    def check_head(
        signed: SignedHead, day: date, previous_hash: str, first_position: int,
        last_position: int, event_count: int, events_digest: str, chunk_roots: LineSet | None,
    ) -> None:
        body = signed.body
        expected = (day, previous_hash, first_position, last_position, event_count, events_digest)
        given = (body.day, body.previous_head_hash, body.first_position, body.last_position,
                 body.event_count, body.day_root)
        if given != expected:
            raise InvalidValue("head", "seal.head", f"the signed head {given} does not describe "
                               f"the seal {expected}")
        if chunk_roots is None:
            raise InvalidValue("chunk_roots", "seal.chunk_roots",
                               "a signed seal keeps the roots of its day's leaf runs")

    @staticmethod
    def check_follows(
        previous: SealHead | None, day: date, first_position: int, last_position: int,
        event_count: int,
    ) -> None:
        if previous is not None and day != previous.day + timedelta(days=1):
            raise InvalidState("day", "seal.chain",
                               f"{day} does not follow the last sealed day {previous.day}")
        if last_position < first_position or event_count > last_position - first_position:
            raise InvalidValue("last_position", "seal.range",
                               f"({first_position}, {last_position}] cannot hold {event_count}")

    class Sealed(LedgerAggregate.Created):
        """Version 3 adds the signed head (RFC 6962 day root, log of heads, Ed25519 signature)
        and the roots of the day's 64-leaf runs; a version-2 seal is an unsigned chain link.
        Version 2 names the per-event digest prefixes by SHA-256 (``LineSet``); version 1
        carried them as one base64 string. The upcast names them as ``digest_prefix_lines``
        would store them, and ``Ledger.lines_of`` stores them from the version-1 event the first
        time they are read. The chained hash does not involve them, so old chains still verify.
        """

        class_version = 3
        day: date
        previous_day: date | None
        previous_hash: str
        first_position: int
        last_position: int
        event_count: int
        events_digest: str
        event_digests: dict[str, Any]
        seal_hash: str
        actor: Actor
        sealed_at: datetime
        head: dict[str, Any] | None
        signature: str | None
        chunk_roots: dict[str, Any] | None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.update(head=None, signature=None, chunk_roots=None)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            for lines in seal_embedded_lines(state):
                state["event_digests"] = line_set_of(lines).as_dict()

        @staticmethod
        def embedded_lines(state: dict[str, Any]) -> list[list[list[Any]]]:
            """The line set a stored version-1 state carried, to store beside the log."""
            return seal_embedded_lines(state)

    @event(Sealed)
    def __init__(
        self,
        day: date,
        previous_day: date | None,
        previous_hash: str,
        first_position: int,  # exclusive
        last_position: int,  # inclusive
        event_count: int,
        events_digest: str,  # SHA-256 over the events' digests, in log order
        event_digests: dict[str, Any],  # LineSet: DIGEST_PREFIX_BYTES per event, log order
        seal_hash: str,
        actor: Actor,
        sealed_at: datetime,
        head: dict[str, Any] | None = None,  # HeadBody, signed
        signature: str | None = None,
        chunk_roots: dict[str, Any] | None = None,  # LineSet: roots of the day's leaf runs
    ) -> None:
        self.day = day
        self.previous_hash = previous_hash
        self.first_position = first_position
        self.last_position = last_position
        self.event_count = event_count
        self.events_digest = events_digest
        self.event_digests = LineSet.from_dict(event_digests)
        self.seal_hash = seal_hash
        self.signed_head = None if head is None else SignedHead.from_dict(
            {"head": head, "signature": signature})
        self.chunk_roots = None if chunk_roots is None else LineSet.from_dict(chunk_roots)

    @property
    def head(self) -> SealHead:
        return SealHead(self.day, self.last_position, self.seal_hash)


def seal_keys_id() -> UUID:
    return aggregate_id("seal-keys", "ledger")


class SealKeys(LedgerAggregate):
    """The seal keys, in the order they signed: the first introduces itself, each later one is
    introduced by a statement its predecessor signed too (``KeyStatement``). The private halves
    never enter the log."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return seal_keys_id()

    @classmethod
    def start(cls, statement: KeyStatement, actor: Actor) -> SealKeys:
        check_job_actor(actor)
        cls.check_statement(statement, None)
        return cast(SealKeys, cls(statement=statement.as_dict(), actor=actor))

    class Started(LedgerAggregate.Created):
        statement: dict[str, Any]
        actor: Actor

    @event(Started)
    def __init__(self, statement: dict[str, Any], actor: Actor) -> None:
        self.statements = [KeyStatement.from_dict(statement)]

    @property
    def current(self) -> KeyStatement:
        return self.statements[-1]

    def rotate(self, statement: KeyStatement, actor: Actor) -> None:
        check_job_actor(actor)
        self.check_statement(statement, self.current)
        self._rotated(statement=statement.as_dict(), actor=actor)

    @staticmethod
    def check_statement(statement: KeyStatement, current: KeyStatement | None) -> None:
        try:
            statement.check()
        except SignatureError as error:
            raise InvalidValue("statement", "seal.key_statement", str(error)) from None
        if current is None and statement.previous_key_id is not None:
            raise InvalidState("statement", "seal.key_chain",
                               "the first seal key introduces itself")
        if current is not None and statement.previous_key_id != current.key_id:
            raise InvalidState("statement", "seal.key_chain",
                               f"the current seal key is {current.key_id}, not "
                               f"{statement.previous_key_id}")
        if current is not None and statement.from_day <= current.from_day:
            raise InvalidState("statement", "seal.key_chain",
                               f"a new key must start after {current.from_day}")

    class Rotated(LedgerAggregate.Event):
        statement: dict[str, Any]
        actor: Actor

    @event(Rotated)
    def _rotated(self, statement: dict[str, Any], actor: Actor) -> None:
        self.statements.append(KeyStatement.from_dict(statement))
