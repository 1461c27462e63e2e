"""経歴証明 as a signed, self-checking document: a worker's days in one trade, each counted record
with the inclusion proofs of the events behind it, checked by anyone with nothing but the file
and the ledger's public seal key.

The *statement* (what the ledger signs with its current seal key) names the worker, the trade,
the period, the figures (work days, 職長 days, 班長 days, certified pre-CCUS days), each proven
record with the log position and Merkle leaf of each event behind it, the records left out because
a seal does not cover them yet, and the ledger's own reading of cards and readers (card → worker,
reader → site). Beside it travel the event proofs (`EventProof`), the signed daily heads they lead
to, and the key statements that join the heads' keys to the key one trusts.

`verify` checks, in order, and stops at the first failure naming it: the key statements, the
statement's signature, each head's signature, that every event named is proven by the proof given
for it and that proof leads to its day's signed root, that the events' contents name the record's
worker, site and day, and that the figures are what the records and certificates count. Pure:
bytes in, a report or an error out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Self

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.settlement.heads import (
    KeyRing,
    KeyStatement,
    SignatureError,
    SignedHead,
    b64,
    canonical,
    key_id_of,
    public_key_bytes,
    verify_signature,
)
from ledger.domain.settlement.merkle import ProofError
from ledger.domain.settlement.proofs import EventProof
from ledger.domain.worker import union_calendar_days

PROOF_FORMAT = "ccus-ledger-career-proof/1"
FOREMAN, TEAM_LEADER = "職長", "班長"
_JST = timezone(timedelta(hours=9))

# What a verified proof shows, and what it cannot: printed by `ledger verify-proof`.
PROVES = (
    "the ledger's seal key signed this statement: the worker, the trade, the period, every "
    "figure and every record listed (a changed number, record or name breaks the signature)",
    "each listed record's events are in the ledger's signed daily logs (RFC 6962 inclusion "
    "proofs to daily heads signed by a key joined to the key you trust)",
    "the events' contents name the record's worker (directly, or by a card the statement "
    "assigns to the worker), its site (directly, or by a reader of that site) and its day",
    "the figures are exactly what the listed records count (職長 and 班長 days apart; a day "
    "with both is a 職長 day), and the certified days what the listed certificates allow",
)
NOT_PROVEN = (
    "that the ledger included every record it holds: records it left out, or never listed, "
    "are not visible to this check",
    "the trade and 立場 of a card record: they come from the site's roster, not from the taps",
    "which card belonged to the worker and which reader stood at which site: the statement "
    "says so and the ledger signed it, but no event proof is given for it",
    "the certificates (経歴証明) behind the certified days: their figures are signed, their "
    "events are not proven here",
    "that the trade names counted answer to the trade's criteria: the statement lists them",
    "anything recorded after the last sealed day",
)


class CareerProofError(ValueError):
    """A proof that does not hold, naming what failed."""


class CareerProofFormatError(ValueError):
    """A file that is not a career proof (bad input, not a failed check)."""


@dataclass(frozen=True)
class ProvenEvent:
    position: int
    leaf: str  # hex of the event's Merkle leaf hash

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "leaf": self.leaf}


@dataclass(frozen=True)
class ProvenRecord:
    """One counted work record (就業履歴) and the events behind it."""

    site_id: str
    work_date: date
    trade: str | None
    position: str | None
    employer_business_id: str | None
    source: str
    events: tuple[ProvenEvent, ...]

    @property
    def name(self) -> str:
        return f"record of {self.work_date} at {self.site_id}"

    def as_dict(self) -> dict[str, Any]:
        return {"site_id": self.site_id, "work_date": self.work_date.isoformat(),
                "trade": self.trade, "position": self.position,
                "employer_business_id": self.employer_business_id, "source": self.source,
                "events": [event.as_dict() for event in self.events]}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Self:
        return cls(str(value["site_id"]), date.fromisoformat(str(value["work_date"])),
                   value.get("trade"), value.get("position"), value.get("employer_business_id"),
                   str(value["source"]),
                   tuple(ProvenEvent(int(e["position"]), str(e["leaf"])) for e in value["events"]))


@dataclass(frozen=True)
class LeftOut:
    """A counted record the statement cannot prove yet (an event behind it is not sealed)."""

    site_id: str
    work_date: date
    trade: str | None
    position: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"site_id": self.site_id, "work_date": self.work_date.isoformat(),
                "trade": self.trade, "position": self.position, "reason": self.reason}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Self:
        return cls(str(value["site_id"]), date.fromisoformat(str(value["work_date"])),
                   value.get("trade"), value.get("position"), str(value["reason"]))


@dataclass(frozen=True)
class Certificate:
    """One 経歴証明 of the trade, as the ledger counts it (confirmed by the worker)."""

    position: int
    certifier_business_id: str
    period_start: date
    period_end: date
    work_days: int
    foreman_days: int
    team_leader_days: int

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "certifier_business_id": self.certifier_business_id,
                "period_start": self.period_start.isoformat(),
                "period_end": self.period_end.isoformat(), "work_days": self.work_days,
                "foreman_days": self.foreman_days, "team_leader_days": self.team_leader_days}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Self:
        return cls(int(value["position"]), str(value["certifier_business_id"]),
                   date.fromisoformat(str(value["period_start"])),
                   date.fromisoformat(str(value["period_end"])), int(value["work_days"]),
                   int(value["foreman_days"]), int(value["team_leader_days"]))


@dataclass(frozen=True)
class Figures:
    """Day figures as level judgment reads them (`projections.queries.levels.LevelFigures`)."""

    work_days: int  # distinct dates, every trade
    trade_work_days: int  # distinct dates in the trade
    foreman_days: int  # 職長 dates in the trade
    team_leader_days: int  # 班長 dates in the trade that are not 職長 dates
    record_count: int  # records in the trade (two sites on one day: 2)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Self:
        return cls(**{name: int(value[name]) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Certified:
    work_days: int
    foreman_days: int
    team_leader_days: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def count_days(
    records: Iterable[tuple[date, str | None, str | None]], trade_names: Sequence[str]
) -> Figures:
    """Figures of (work date, trade, 立場) records; `trade_names` are the names that count as
    the trade."""
    days: set[date] = set()
    in_trade: set[date] = set()
    foreman: set[date] = set()
    leader: set[date] = set()
    count = 0
    for day, trade, position in records:
        days.add(day)
        if trade is None or trade not in trade_names:
            continue
        count += 1
        in_trade.add(day)
        if position == FOREMAN:
            foreman.add(day)
        elif position == TEAM_LEADER:
            leader.add(day)
    return Figures(len(days), len(in_trade), len(foreman), len(leader - foreman), count)


def bound_by_calendar(
    periods: Iterable[tuple[date, date]], work_days: int, foreman_days: int,
    team_leader_days: int,
) -> Certified:
    """Certified days never more than the calendar days of the periods' union (a day is worked
    once, however many certificates cover it); 職長 within them, 班長 within the rest. The one
    rule, used by level judgment too."""
    work = min(work_days, union_calendar_days(periods))
    foreman = min(foreman_days, work)
    return Certified(work, foreman, min(team_leader_days, work - foreman))


def certified_within_calendar(certificates: Sequence[Certificate]) -> Certified:
    return bound_by_calendar(((c.period_start, c.period_end) for c in certificates),
                             sum(c.work_days for c in certificates),
                             sum(c.foreman_days for c in certificates),
                             sum(c.team_leader_days for c in certificates))


@dataclass(frozen=True)
class CareerProof:
    statement: dict[str, Any]  # what the signature covers
    signature: str
    event_proofs: list[EventProof]
    heads: list[SignedHead]
    key_statements: list[KeyStatement]

    @classmethod
    def sign(
        cls, statement: dict[str, Any], key: Ed25519PrivateKey, event_proofs: list[EventProof],
        heads: list[SignedHead], key_statements: list[KeyStatement],
    ) -> Self:
        if statement.get("key_id") != key_id_of(public_key_bytes(key)):
            raise SignatureError("the statement names another key than the one signing it")
        body = {"format": PROOF_FORMAT, **statement}
        return cls(body, b64(key.sign(canonical(body))), event_proofs, heads, key_statements)

    def as_dict(self) -> dict[str, Any]:
        return {"format": PROOF_FORMAT, "statement": self.statement,
                "signature": self.signature,
                "event_proofs": [proof.as_dict() for proof in self.event_proofs],
                "heads": [head.as_dict() for head in self.heads],
                "key_statements": [s.as_dict() for s in self.key_statements]}

    def to_json(self) -> bytes:
        return orjson.dumps(self.as_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, data: bytes) -> Self:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise CareerProofFormatError(f"not JSON: {error}") from None
        if not isinstance(value, dict) or value.get("format") != PROOF_FORMAT:
            raise CareerProofFormatError(f"not a career proof of format {PROOF_FORMAT}")
        try:
            statement = value["statement"]
            if not isinstance(statement, dict):
                raise TypeError("'statement' is not an object")
            return cls(statement, str(value["signature"]),
                       [EventProof.from_dict(p) for p in value["event_proofs"]],
                       [SignedHead.from_dict(h) for h in value["heads"]],
                       [KeyStatement.from_dict(s) for s in value["key_statements"]])
        except (KeyError, TypeError, ProofError, SignatureError) as error:
            raise CareerProofFormatError(f"the proof's parts: {error}") from None

    def sha256(self) -> str:
        """The fingerprint printed on paper: SHA-256 of the canonical JSON of the whole proof."""
        return hashlib.sha256(canonical(self.as_dict())).hexdigest()


@dataclass(frozen=True)
class Verified:
    """What a proof that holds shows."""

    technician_id: str
    trade: str
    trade_name: str
    period_from: date | None
    period_to: date
    sealed_through: date
    proven: Figures
    ledger: Figures
    certified: Certified
    records: int
    events: int
    heads: int
    left_out: int
    key_ids: list[str] = field(default_factory=list)


def verify(proof: CareerProof, trusted_keys: list[bytes]) -> Verified:
    """Check everything the proof carries against the keys one trusts; raise CareerProofError
    naming the first thing that fails."""
    try:
        ring = KeyRing(trusted_keys, proof.key_statements)
    except SignatureError as error:
        raise CareerProofError(f"key statements: {error}") from None
    s = proof.statement
    try:
        issued_on = date.fromisoformat(str(s["issued_on"]))
        key = ring.key_for(str(s["key_id"]), issued_on)
        verify_signature(key, proof.signature, canonical(s),
                         "the statement (worker, trade, figures and records)")
    except (KeyError, ValueError) as error:
        raise CareerProofError(f"the statement's signature: {error}") from None
    try:
        parsed = _Statement.of(s)
    except (KeyError, TypeError, ValueError) as error:
        raise CareerProofError(f"the signed statement's fields: {error}") from None
    heads = _checked_heads(proof.heads, ring, parsed.sealed_through)
    proofs = {p.position: p for p in proof.event_proofs}
    used = set()
    for record in parsed.records:
        if record.work_date > parsed.period_to or record.work_date > parsed.sealed_through:
            raise CareerProofError(f"{record.name}: after the period or the last sealed day")
        contents = []
        for event in record.events:
            event_proof = proofs.get(event.position)
            if event_proof is None:
                raise CareerProofError(f"{record.name}: no proof for its event at log position "
                                       f"{event.position}")
            if event_proof.leaf().hex() != event.leaf:
                raise CareerProofError(f"{record.name}: the proof for log position "
                                       f"{event.position} is of another event than the one "
                                       "signed (its contents or identity differ)")
            head = heads.get(event_proof.day)
            if head is None:
                raise CareerProofError(f"{record.name}: event at log position {event.position} "
                                       f"names {event_proof.day}, whose signed head is missing")
            try:
                event_proof.verify(head)
            except ProofError as error:
                raise CareerProofError(f"{record.name}: {error}") from None
            used.add(event.position)
            contents.append(event_proof.content())
        _check_names(record, contents, parsed)
    unused = sorted(set(proofs) - used)
    if unused:
        raise CareerProofError(f"event proof(s) for log position(s) {unused[:5]} belong to no "
                               "listed record")
    _check_figures(parsed)
    return Verified(parsed.technician_id, parsed.trade, parsed.trade_name, parsed.period_from,
                    parsed.period_to, parsed.sealed_through, parsed.proven, parsed.ledger,
                    parsed.certified, len(parsed.records), len(used), len(heads),
                    len(parsed.left_out), ring.key_ids)


@dataclass(frozen=True)
class _Statement:
    technician_id: str
    trade: str
    trade_name: str
    trade_names: list[str]
    period_from: date | None
    period_to: date
    sealed_through: date
    max_shift_hours: int
    records: list[ProvenRecord]
    left_out: list[LeftOut]
    proven: Figures
    ledger: Figures
    certified: Certified
    certificates: list[Certificate]
    cards: Mapping[str, str]
    readers: Mapping[str, str]

    @classmethod
    def of(cls, s: dict[str, Any]) -> Self:
        period = s["period"]
        figures = s["figures"]
        certified = figures["certified"]
        return cls(
            str(s["technician_id"]), str(s["trade"]), str(s["trade_name"]),
            [str(name) for name in s["trade_names"]],
            None if period["from"] is None else date.fromisoformat(str(period["from"])),
            date.fromisoformat(str(period["to"])), date.fromisoformat(str(s["sealed_through"])),
            int(s["max_shift_hours"]),
            [ProvenRecord.from_dict(r) for r in s["records"]],
            [LeftOut.from_dict(r) for r in s["left_out"]],
            Figures.from_dict(figures["proven"]), Figures.from_dict(figures["ledger"]),
            Certified(int(certified["work_days"]), int(certified["foreman_days"]),
                      int(certified["team_leader_days"])),
            [Certificate.from_dict(c) for c in s["certificates"]],
            {str(k): str(v) for k, v in s["cards"].items()},
            {str(k): str(v) for k, v in s["readers"].items()})


def _checked_heads(
    heads: list[SignedHead], ring: KeyRing, sealed_through: date
) -> dict[date, SignedHead]:
    by_day: dict[date, SignedHead] = {}
    for head in heads:
        try:
            head.verify(ring)
        except SignatureError as error:
            raise CareerProofError(f"signed heads: {error}") from None
        if head.body.day > sealed_through:
            raise CareerProofError(f"signed heads: the head of {head.body.day} is after the "
                                   f"last sealed day the statement names ({sealed_through})")
        by_day[head.body.day] = head
    return by_day


def _check_names(record: ProvenRecord, contents: list[dict[str, Any]], s: _Statement) -> None:
    """The events together name the record's worker, site and day, and none names another."""
    worker = site = day = False
    assigned = {c.get("card_id") for c in contents
                if c.get("technician_id") == s.technician_id and c.get("tap_id")
                and "reader_id" not in c}  # Site.UnknownCardAssigned: the staff's decision
    latest = datetime.combine(record.work_date + timedelta(days=1), datetime.min.time(), _JST)
    latest += timedelta(hours=s.max_shift_hours)
    for content in contents:
        technician = content.get("technician_id")
        if technician is not None:
            if technician != s.technician_id:
                raise CareerProofError(f"{record.name}: an event names worker {technician}")
            worker = True
        card = content.get("card_id")
        if card is not None and "reader_id" in content:  # a tap by card
            if s.cards.get(card) != s.technician_id and card not in assigned:
                raise CareerProofError(f"{record.name}: a tap of card {card}, which the "
                                       "statement does not give to the worker")
            worker = True
        named_site = content.get("site_id")
        if named_site is not None:
            if named_site != record.site_id:
                raise CareerProofError(f"{record.name}: an event names site {named_site}")
            site = True
        reader = content.get("reader_id")
        if reader is not None:
            if s.readers.get(reader) != record.site_id:
                raise CareerProofError(f"{record.name}: a tap at reader {reader}, which the "
                                       "statement does not place at the site")
            site = True
        if content.get("work_date") is not None:
            if date.fromisoformat(str(content["work_date"])) != record.work_date:
                raise CareerProofError(f"{record.name}: an event names work date "
                                       f"{content['work_date']}")
            day = True
        if content.get("reader_time") is not None:
            moment = datetime.fromisoformat(str(content["reader_time"]))
            if moment.astimezone(_JST).date() == record.work_date:
                day = True
            elif not record.work_date < moment.astimezone(_JST).date() or moment >= latest:
                raise CareerProofError(f"{record.name}: a tap at {content['reader_time']}, "
                                       "outside the day and its shift")
    missing = [name for name, named in (("worker", worker), ("site", site), ("day", day))
               if not named]
    if missing:
        raise CareerProofError(f"{record.name}: no event names its {' or '.join(missing)}")


def _check_figures(s: _Statement) -> None:
    rows = [(r.work_date, r.trade, r.position) for r in s.records]
    for name, claimed, counted in (
            ("proven", s.proven, count_days(rows, s.trade_names)),
            ("ledger", s.ledger, count_days(
                rows + [(r.work_date, r.trade, r.position) for r in s.left_out], s.trade_names)),
    ):
        for figure, value in claimed.as_dict().items():
            if getattr(counted, figure) != value:
                raise CareerProofError(f"figures ({name}): {figure} says {value}, but the "
                                       f"records count {getattr(counted, figure)}")
    keys = [(r.work_date, r.site_id) for r in s.records]
    keys += [(r.work_date, r.site_id) for r in s.left_out]
    if len(keys) != len(set(keys)):
        raise CareerProofError("records: a worker, site and day listed twice")
    certified = certified_within_calendar(s.certificates)
    if certified != s.certified:
        raise CareerProofError(f"figures (certified): {s.certified.as_dict()}, but the "
                               f"certificates allow {certified.as_dict()}")
    in_range = [r.work_date for r in s.records]
    if in_range and (s.period_from is None or min(in_range) < s.period_from):
        raise CareerProofError("period: a record lies before the period's first day")
