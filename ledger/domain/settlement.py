"""締め — what the nightly jobs decide: day closes, Kentaikyo settlements (就労実績報告), site usage
fee bills (現場利用料) and daily seals of the log.

Each is an aggregate with a deterministic ID (site-day, month, prime contractor, day), so a job
that runs twice collides with its first result instead of issuing a second one. Issued results are
never changed: a late approval or correction after a settlement shows up as an adjustment in the
next one. Nothing here does I/O; the jobs in ``projections.jobs`` gather the facts and call these.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.domain import event

from ledger.actors import Actor, Role
from ledger.clock import JST, end_of_month, require_aware
from ledger.domain.base import LedgerAggregate, require_date
from ledger.errors import InvalidState, InvalidValue, NotPermitted
from ledger.ids import BusinessId, SiteId, aggregate_id

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_SHA256 = re.compile(r"[0-9a-f]{64}")

# 現場利用料 (ccus.jp/p/announce20201001full; miyagi-ccus.com/posts/news9.html): 10 yen per work
# record (worker × site × day), billed to the prime. A month's bill under 10,000 yen is carried
# over; our reading of "for at most 6 months": one bill covers at most 6 calendar months of
# usage, so an amount first carried from month S is billed with month S+5's bill at the latest,
# whatever its size. Calendar months, so a quiet month still counts towards the six.
SITE_FEE_YEN_PER_RECORD = 10
SITE_FEE_MINIMUM_BILL_YEN = 10_000
SITE_FEE_MAX_MONTHS_PER_BILL = 6

# Requests for a work date may be approved until the end of the following month, so a month can
# still change after it was settled (the settlement runs early in the following month) but not
# after the month after that. Settlements and bills therefore look back this many months for
# late changes; one would do, two leaves room for a run that was itself late.
LOOKBACK_MONTHS = 2

GENESIS_HASH = "0" * 64
DIGEST_PREFIX_BYTES = 4  # per-event digest prefix a seal keeps, to locate a changed event
DIGEST_PREFIXES_PER_LINE = 1024  # prefixes per line of a seal's event digests


# -- months --------------------------------------------------------------------------------------
def parse_month(text: object, field: str = "month") -> date:
    """'YYYY-MM' → its first day."""
    match = _MONTH.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidValue(field, f"{field}.format", f"{text!r} is not a month (YYYY-MM)")
    return date(int(match[1]), int(match[2]), 1)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def add_months(month: str, count: int) -> str:
    first = parse_month(month)
    index = first.year * 12 + first.month - 1 + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(earlier: str, later: str) -> int:
    """How many months `later` is after `earlier` (0 for the same month)."""
    a, b = parse_month(earlier), parse_month(later)
    return (b.year - a.year) * 12 + b.month - a.month


def start_of_day(day: date) -> datetime:
    """The first instant of a JST calendar day."""
    return datetime.combine(day, time(0), JST)


# -- rules shared by every job -------------------------------------------------------------------
def check_job_actor(actor: Actor) -> None:
    if actor.role not in (Role.SYSTEM, Role.ADMIN):
        raise NotPermitted("actor", "job.actor", "only the system or an administrator runs jobs")


def check_day_over(day: date, now: datetime, field: str = "work_date") -> None:
    """A day is closed or sealed only once it has ended in Japan, or its list would be partial."""
    if require_aware(now, "now") < start_of_day(day + timedelta(days=1)):
        raise InvalidState(field, f"{field}.not_over", f"{day} has not ended yet (JST)")


def check_month_over(month: str, now: datetime) -> None:
    first = parse_month(month)
    if require_aware(now, "now") < start_of_day(end_of_month(first) + timedelta(days=1)):
        raise InvalidState("month", "month.not_over", f"{month} has not ended yet (JST)")


def check_sha256(files: Mapping[str, str]) -> None:
    for name, digest in files.items():
        if not _SHA256.fullmatch(digest):
            raise InvalidValue("files", "files.sha256", f"{name}: {digest!r} is not a SHA-256")


# -- 日締め: day close ----------------------------------------------------------------------------
def day_close_id(site_id: str, work_date: date) -> UUID:
    return aggregate_id("day-close", f"{site_id}:{work_date.isoformat()}")


class DayClose(LedgerAggregate):
    """One site-day, closed: what was still open or unresolved when the day was over.

    It lists and never changes anything: taps and records stay as they are, so an exit tap that
    arrives after the close still closes its record; the listing is what staff saw at 02:00.
    """

    @staticmethod
    def create_id(site_id: str, work_date: date, **_: Any) -> UUID:
        return day_close_id(site_id, work_date)

    @classmethod
    def close(
        cls,
        site_id: str,
        work_date: date,
        missing_exits: list[dict[str, Any]],
        unknown_card_taps: list[dict[str, Any]],
        silent_readers: list[str],
        as_of_position: int,
        actor: Actor,
        now: datetime,
    ) -> DayClose:
        check_job_actor(actor)
        check_day_over(require_date(work_date, "work_date"), now)
        return cast(DayClose, cls(  # the library's decorated __init__ is untyped
            site_id=SiteId(site_id), work_date=work_date, missing_exits=missing_exits,
            unknown_card_taps=unknown_card_taps, silent_readers=sorted(silent_readers),
            as_of_position=as_of_position, actor=actor, closed_at=now,
        ))

    @event("Closed")
    def __init__(
        self,
        site_id: str,
        work_date: date,
        missing_exits: list[dict[str, Any]],
        unknown_card_taps: list[dict[str, Any]],
        silent_readers: list[str],
        as_of_position: int,  # read-model position the lists were taken at
        actor: Actor,
        closed_at: datetime,
    ) -> None:
        self.site_id = site_id
        self.work_date = work_date
        self.missing_exits = missing_exits
        self.unknown_card_taps = unknown_card_taps
        self.silent_readers = silent_readers

    @property
    def findings(self) -> int:
        return len(self.missing_exits) + len(self.unknown_card_taps) + len(self.silent_readers)


# -- 就労実績報告: Kentaikyo settlement ----------------------------------------------------------
DayKey = tuple[str, str | None, str, str]  # technician, employer, site, work date (ISO)
DayValue = tuple[int, str]  # points (yen), outcome: eligible | <reason> | covered:<site>


@dataclass(frozen=True)
class Adjustment:
    """A worker-day line of an earlier month whose points or outcome changed after it was issued.
    ``None`` before: a new line (late approval); ``None`` after: the line is gone."""

    month: str
    key: DayKey
    before: DayValue | None
    after: DayValue | None

    @property
    def points_delta(self) -> int:
        return (self.after[0] if self.after else 0) - (self.before[0] if self.before else 0)

    def as_row(self) -> list[Any]:
        before, after = self.before or (0, None), self.after or (0, None)
        return [self.month, *self.key, before[0], after[0], before[1], after[1]]

    @classmethod
    def from_row(cls, row: list[Any]) -> Adjustment:
        month, technician, employer, site, work_date, p0, p1, o0, o1 = row
        return cls(month, (technician, employer, site, work_date),
                   None if o0 is None else (p0, o0), None if o1 is None else (p1, o1))


def diff_days(
    month: str, issued: Mapping[DayKey, DayValue], current: Mapping[DayKey, DayValue]
) -> list[Adjustment]:
    """Every line of `month` that differs between what was issued and what is true now."""
    changed = [
        Adjustment(month, key, issued.get(key), current.get(key))
        for key in set(issued) | set(current)
        if issued.get(key) != current.get(key)
    ]
    return sorted(changed, key=lambda a: (a.key[0], a.key[1] or "", a.key[2], a.key[3]))


def settlement_id(month: str) -> UUID:
    return aggregate_id("kentaikyo-settlement", month)


@dataclass(frozen=True)
class LineSet:
    """A set of lines kept beside the log (``ledger.storage.lines``), named by the SHA-256 of its
    canonical encoding: what an event carries instead of the lines themselves."""

    sha256: str
    count: int

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.sha256) or self.count < 0:
            raise InvalidValue("lines", "lines.sha256", f"{self!r} does not name a set of lines")

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "count": self.count}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> LineSet:
        return cls(str(value["sha256"]), int(value["count"]))


def encode_line(line: Iterable[Any]) -> bytes:
    """A line's canonical bytes: compact JSON (orjson: one encoding per value) and a newline."""
    return orjson.dumps(list(line)) + b"\n"


def line_set_of(lines: Iterable[Iterable[Any]]) -> LineSet:
    """The name and size a set of lines has, wherever it is kept."""
    hasher, count = hashlib.sha256(), 0
    for line in lines:
        hasher.update(encode_line(line))
        count += 1
    return LineSet(hasher.hexdigest(), count)


# An event stays small whatever the month's size: a settlement carries totals, three line sets
# and one SHA-256 per file; the bound below is checked when it is issued.
MAX_EVENT_BYTES = 64 * 1024


class SettlementTally:
    """The rules a settlement's lines follow, applied line by line as they are produced (a month
    of a large employer is hundreds of thousands of lines, never held at once), with the totals
    its event carries."""

    def __init__(self, month: str) -> None:
        parse_month(month)
        self.month = month
        self.points_yen = 0
        self.adjustment_yen = 0
        self.day_lines = 0
        self.adjustment_lines = 0

    def day(self, line: list[Any]) -> list[Any]:
        technician, _, site, work_date, points, outcome = line
        if not isinstance(points, int) or points < 0 or not outcome:
            raise InvalidValue("days", "days.line", f"{line!r} is not a worker-day line")
        if month_of(date.fromisoformat(work_date)) != self.month:
            raise InvalidValue("days", "days.month", f"{work_date} is not in {self.month}")
        del technician, site
        self.points_yen += points
        self.day_lines += 1
        return line

    def adjustment(self, adjustment: Adjustment) -> list[Any]:
        if months_between(adjustment.month, self.month) <= 0:
            raise InvalidValue("adjustments", "adjustments.earlier_month",
                               f"{adjustment.month} is not before {self.month}")
        self.adjustment_yen += adjustment.points_delta
        self.adjustment_lines += 1
        return adjustment.as_row()


class KentaikyoSettlement(LedgerAggregate):
    """建退共 work report for one month, issued once: every worker-day line with its points or the
    reason it earns none, adjustments to earlier months, and the SHA-256 of each file issued.

    The lines live beside the log (``ledger.storage.lines``), the event names them by SHA-256:
    days as ``[technician, employer, site, work_date, points, outcome]``, adjustments as
    ``Adjustment.as_row`` and the parties (for the files) as ``[kind, key, value]``. ``files``
    is each file's SHA-256 of its content (``projections.jobs.files``), not of the bytes a
    renderer happened to produce, so a file written again by a newer library still matches.
    """

    @staticmethod
    def create_id(month: str, **_: Any) -> UUID:
        return settlement_id(month)

    @classmethod
    def issue(
        cls,
        tally: SettlementTally,
        days: LineSet,
        adjustments: LineSet,
        parties: LineSet,
        files: dict[str, str],
        as_of_position: int,
        actor: Actor,
        now: datetime,
    ) -> KentaikyoSettlement:
        check_job_actor(actor)
        month = tally.month
        first = parse_month(month)
        check_month_over(month, now)
        check_sha256(files)
        if (days.count, adjustments.count) != (tally.day_lines, tally.adjustment_lines):
            raise InvalidValue("days", "days.count", "the lines stored are not the lines tallied")
        return cast(KentaikyoSettlement, cls(
            month=month, period_start=first, period_end=end_of_month(first),
            days=days.as_dict(), adjustments=adjustments.as_dict(), parties=parties.as_dict(),
            files=files, points_yen=tally.points_yen, adjustment_yen=tally.adjustment_yen,
            as_of_position=as_of_position, actor=actor, issued_at=now,
        ))

    @event("Issued")
    def __init__(
        self,
        month: str,
        period_start: date,
        period_end: date,
        days: dict[str, Any],  # LineSet of the worker-day lines
        adjustments: dict[str, Any],  # LineSet of adjustments to earlier months
        parties: dict[str, Any],  # LineSet: sites → prime, members, contracts (for the files)
        files: dict[str, str],  # file name → SHA-256 of its content (hex)
        points_yen: int,
        adjustment_yen: int,
        as_of_position: int,
        actor: Actor,
        issued_at: datetime,
    ) -> None:
        self.month = month
        self.day_lines = LineSet.from_dict(days)
        self.adjustment_lines = LineSet.from_dict(adjustments)
        self.party_lines = LineSet.from_dict(parties)
        self.files = files
        self.points_yen = points_yen
        self.adjustment_yen = adjustment_yen
        self.issued_at = issued_at


def day_key(line: list[Any]) -> DayKey:
    return (line[0], line[1], line[2], line[3])


def issued_state(
    month: str, days: Iterable[list[Any]],
    later: Iterable[tuple[str, Iterable[list[Any]]]],
) -> dict[DayKey, DayValue]:
    """What has been issued for `month` so far: its lines, then each later settlement's
    adjustments to that month (`later`: settlement month and its adjustment lines), in the
    order they were issued."""
    state = {day_key(r): (int(r[4]), str(r[5])) for r in days}
    for _, adjustments in sorted(later, key=lambda settled: settled[0]):
        for adjustment in map(Adjustment.from_row, adjustments):
            if adjustment.month != month:
                continue
            if adjustment.after is None:
                state.pop(adjustment.key, None)
            else:
                state[adjustment.key] = adjustment.after
    return state


def parties_as_lines(parties: Mapping[str, Mapping[str, str]]) -> Iterator[list[str]]:
    for kind in ("sites", "members", "contracts"):
        for key, value in sorted(parties.get(kind, {}).items()):
            yield [kind, key, value]


def parties_from_lines(lines: Iterable[list[Any]]) -> dict[str, dict[str, str]]:
    parties: dict[str, dict[str, str]] = {"sites": {}, "members": {}, "contracts": {}}
    for kind, key, value in lines:
        parties[kind][key] = value
    return parties


# -- 現場利用料: site usage fee ------------------------------------------------------------------
def site_fee_account_id(prime_business_id: str) -> UUID:
    return aggregate_id("site-fee-account", prime_business_id)


UsageKey = tuple[str, str]  # site ID, work month


class SiteFeeAccount(LedgerAggregate):
    """A prime contractor's site usage fee account: one ``MonthBilled`` event per billing month,
    with what it carries over (繰越) to the next."""

    @staticmethod
    def create_id(prime_business_id: str, **_: Any) -> UUID:
        return site_fee_account_id(prime_business_id)

    @classmethod
    def open(
        cls, prime_business_id: str, first_month: str, actor: Actor, now: datetime
    ) -> SiteFeeAccount:
        check_job_actor(actor)
        parse_month(first_month, "first_month")
        return cast(SiteFeeAccount, cls(
            prime_business_id=BusinessId(prime_business_id), first_month=first_month,
            actor=actor, opened_at=now))

    @event("Opened")
    def __init__(
        self, prime_business_id: str, first_month: str, actor: Actor, opened_at: datetime
    ) -> None:
        self.prime_business_id = prime_business_id
        self.last_month: str | None = None
        self.last_outcome: str | None = None
        self.last_billed_yen = 0
        self.carried_yen = 0
        self.carried_since: str | None = None  # oldest usage month in the carried amount
        self.billed: dict[str, int] = {}  # "site|work month" → records billed, recent months

    def billed_records(self, site_id: str, work_month: str) -> int:
        return self.billed.get(f"{site_id}|{work_month}", 0)

    def check_next_month(self, month: str) -> None:
        if self.last_month is not None and months_between(self.last_month, month) <= 0:
            raise InvalidState("month", "site_fee.billed",
                               f"{month} is not after the last billed month {self.last_month}")

    def unbilled(self, month: str, usage: Mapping[UsageKey, int]) -> list[list[Any]]:
        """Lines ``[site, work month, records, yen]`` for records not billed yet (negative for
        records billed that no longer count)."""
        oldest = add_months(month, -LOOKBACK_MONTHS)
        billed_keys = {(site, work_month) for site, _, work_month in
                       (k.partition("|") for k in self.billed)
                       if months_between(oldest, work_month) >= 0}
        lines: list[list[Any]] = []
        # Keys billed before and absent now count as zero: a record that stopped counting is
        # credited rather than silently kept.
        for site_id, work_month in sorted(set(usage) | billed_keys):
            if not 0 <= months_between(work_month, month) <= LOOKBACK_MONTHS:
                raise InvalidValue(
                    "usage", "usage.month",
                    f"{work_month} is not within {LOOKBACK_MONTHS} months of {month}")
            delta = usage.get((site_id, work_month), 0) - self.billed_records(site_id, work_month)
            if delta:
                lines.append([site_id, work_month, delta, delta * SITE_FEE_YEN_PER_RECORD])
        return lines

    def has_anything_due(self, month: str, usage: Mapping[UsageKey, int]) -> bool:
        return self.carried_yen != 0 or bool(self.unbilled(month, usage))

    def bill_month(
        self, month: str, usage: Mapping[UsageKey, int], actor: Actor, now: datetime
    ) -> None:
        """Bill `month`: `usage` is the current record count per site and work month (this month
        and the LOOKBACK_MONTHS before it, for late records); only what was not billed before is
        charged."""
        check_job_actor(actor)
        check_month_over(month, now)
        self.check_next_month(month)
        lines = self.unbilled(month, usage)
        usage_yen = sum(int(line[3]) for line in lines)
        total = self.carried_yen + usage_yen
        since = self.carried_since or month
        months = months_between(since, month) + 1
        if total == 0:
            outcome, billed, carried = "nothing_due", 0, 0
        elif total >= SITE_FEE_MINIMUM_BILL_YEN or months >= SITE_FEE_MAX_MONTHS_PER_BILL:
            outcome, billed, carried = "billed", total, 0
        else:
            outcome, billed, carried = "carried_over", 0, total
        self._month_billed(
            prime_business_id=self.prime_business_id, month=month, lines=lines,
            usage_yen=usage_yen, carried_in_yen=self.carried_yen,
            carried_in_since=self.carried_since, billed_yen=billed, carried_out_yen=carried,
            outcome=outcome, actor=actor, billed_at=now,
        )

    @event("MonthBilled")
    def _month_billed(
        self,
        prime_business_id: str,  # repeated so each bill reads on its own
        month: str,
        lines: list[list[Any]],  # [site_id, work_month, records, yen]
        usage_yen: int,
        carried_in_yen: int,
        carried_in_since: str | None,
        billed_yen: int,
        carried_out_yen: int,
        outcome: str,  # billed | carried_over | nothing_due
        actor: Actor,
        billed_at: datetime,
    ) -> None:
        for site_id, work_month, records, _ in lines:
            key = f"{site_id}|{work_month}"
            self.billed[key] = self.billed.get(key, 0) + records
        oldest = add_months(month, -LOOKBACK_MONTHS)
        self.billed = {k: v for k, v in self.billed.items()
                       if months_between(oldest, k.partition("|")[2]) >= 0}
        self.last_month = month
        self.last_outcome = outcome
        self.last_billed_yen = billed_yen
        self.carried_yen = carried_out_yen
        self.carried_since = (carried_in_since or month) if carried_out_yen else None


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
    ) -> DailySeal:
        check_job_actor(actor)
        check_day_over(require_date(day, "day"), now, field="day")
        first_position = 0 if previous is None else previous.last_position
        cls.check_follows(previous, day, first_position, last_position, event_count)
        previous_hash = GENESIS_HASH if previous is None else previous.seal_hash
        return cast(DailySeal, cls(
            day=day, previous_day=None if previous is None else previous.day,
            previous_hash=previous_hash, first_position=first_position,
            last_position=last_position, event_count=event_count, events_digest=events_digest,
            event_digests=event_digests.as_dict(),
            seal_hash=seal_hash(previous_hash, day, first_position, last_position, event_count,
                                events_digest),
            actor=actor, sealed_at=now,
        ))

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

    @event("Sealed")
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
    ) -> None:
        self.day = day
        self.previous_hash = previous_hash
        self.first_position = first_position
        self.last_position = last_position
        self.event_count = event_count
        self.events_digest = events_digest
        self.event_digests = LineSet.from_dict(event_digests)
        self.seal_hash = seal_hash

    @property
    def head(self) -> SealHead:
        return SealHead(self.day, self.last_position, self.seal_hash)
