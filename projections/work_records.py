"""就業履歴: rebuild the work records a batch of events touched, from the stored taps and requests.

A record is recomputed from everything known about its worker and site around its date, never
patched, so the incremental projection, a full rebuild and a rebuild after a crash agree.

What a worker's records are computed from (taps, requests, roster, employments, the records as
stored) is kept between batches for the workers the last batch touched: a catch-up moves forward
a few days a batch, so each batch reads only the days it adds. The facts are only trusted while the
projection is still at the position they were kept at (`WorkRecords.begin`); another runner, a
failed batch or a swapped-in rebuild makes them be read again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson

from ledger.clock import JST
from ledger.domain.phone import PHONE_READER_PREFIX
from ledger.domain.worker import Worker
from projections.decoding import EventClass
from projections.derive import CardDay, TapFact, derive_card_days
from projections.records import RecordSource, RecordStatus
from projections.store import Tx, as_date, as_datetime, sqlite_value
from projections.work_days import DayChanges

# Taps with these flags are kept for the exceptions list but make no record.
NOT_COUNTED_FLAGS = frozenset({"unknown_card", "revoked_card", "unregistered_reader",
                               "outside_area", "no_position"})


def counts(flags: Sequence[str]) -> bool:
    """Whether a tap with these flags makes a work record."""
    return not flags or not NOT_COUNTED_FLAGS.intersection(flags)


# The days either side of a touched date whose taps can decide its record (an overnight shift).
WINDOW = timedelta(days=3)
TRIM_SLACK = timedelta(days=7)
# Longer than a catch-up's or a request's reach (a request's date is at most two months back).
WIDE_WINDOW = timedelta(days=70)  # kept days before a window, dropped a week at a time
NOT_BUILT = ()  # no card day has no taps: a record not built yet never matches

# Registry events whose effect on a record is by work date, not by log position: an employment's
# period decides the employer of every card record it covers that has no roster entry, however
# long ago the record was built (roster entries, cards and readers are judged as they were when
# the tap came, by log position, and so never change a stored record). A replay builds such a
# record with the employments as they are at the end of its batch; so that the live projection
# agrees whatever the batches, every change re-derives the worker's stored card records.
# An employment a worker confirmed starts like one a business started (its period may reach back).
DATED_REGISTRY_EVENTS: frozenset[EventClass] = frozenset(
    {
        Worker.EmploymentStarted,  # type: ignore[attr-defined]
        Worker.EmploymentConfirmed,  # type: ignore[attr-defined]
        Worker.EmploymentEnded,  # type: ignore[attr-defined]
    }
)

Pair = tuple[str, str]  # (technician_id, site_id)
RosterEntry = tuple[int, str, str, str]  # (from_position, employer, trade, role)
Employment = tuple[str, date, date | None, bool]  # (business, since, until, primary)


@dataclass(frozen=True)
class Request:
    request_id: str
    kind: str  # ManualEntry | Correction
    work_date: date
    employer_business_id: str
    payload: dict[str, Any]
    status: str
    positions: tuple[int, ...]

    @property
    def decided_position(self) -> int:
        return self.positions[-1]


@dataclass
class WorkerFacts:
    """One worker's facts, complete for the work dates ``low`` … ``high``: taps (by the JST date
    of the reader's clock), requests and stored records; roster and employments whole."""

    low: date
    high: date
    taps: defaultdict[str, defaultdict[date, list[TapFact]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )  # by site, then by date
    requests: defaultdict[tuple[str, date], list[Request]] = field(
        default_factory=lambda: defaultdict(list)
    )
    roster: defaultdict[str, list[RosterEntry]] = field(default_factory=lambda: defaultdict(list))
    employments: list[Employment] = field(default_factory=list)
    stored: dict[tuple[str, date], tuple[Any, ...]] = field(default_factory=dict)
    # The log positions of the card day each stored record was built from (None: no card day).
    # The rest of what a record is built from only changes with events that drop these facts.
    built_from: dict[tuple[str, date], tuple[int, ...] | None] = field(default_factory=dict)

    def add_tap(self, site_id: str, tap: TapFact) -> None:
        self.taps[site_id][tap.jst_day].append(tap)

    def taps_between(self, site_id: str, low: date, high: date) -> list[TapFact]:
        by_day = self.taps.get(site_id)
        if not by_day:
            return []
        return [tap for day, taps in by_day.items() if low <= day <= high for tap in taps]

    def forget_before(self, low: date) -> None:
        """Keep memory bounded: drop what lies well before the window a batch started from."""
        if low - self.low <= TRIM_SLACK:
            return
        self.low = low
        for by_day in self.taps.values():
            for day in [d for d in by_day if d < low]:
                del by_day[day]
        for keyed in (self.requests, self.stored, self.built_from):
            for key in [k for k in keyed if k[1] < low]:
                del keyed[key]


RECORD_COLUMNS = (
    "technician_id",
    "site_id",
    "work_date",
    "employer_business_id",
    "trade",
    "role_position",
    "work_content",
    "first_entry",
    "last_exit",
    "minutes_on_site",
    "source",
    "status",
    "flags",
    "event_positions",
)
RECORD_TYPES = (
    *("text", "text", "date", "text", "text", "text", "text"),
    *("timestamptz", "timestamptz", "int4", "text", "text", "text", "text"),
)


class WorkRecords:
    """Rebuilds the records a batch touched; keeps the touched workers' facts for the next."""

    def __init__(self, max_shift: timedelta) -> None:
        self.max_shift = max_shift
        self._facts: dict[str, WorkerFacts] = {}
        self._position: int | None = None  # the log position the kept facts are true at
        self._start = 0  # where the batch being processed starts

    def begin(self, position: int) -> None:
        """A batch after ``position`` starts: facts kept at any other position are stale."""
        if position != self._position:
            self.forget()
        self._start = position

    def committed(self, position: int) -> None:
        self._position = position

    def forget(self) -> None:
        self._facts.clear()
        self._position = None

    def registry_changed(
        self,
        tx: Tx,
        changed_workers: Iterable[str],
        redated_workers: Iterable[str],
        affected: dict[Pair, set[date]],
    ) -> None:
        """``changed_workers`` had requests or registry events in this batch: their kept facts
        are read again. ``redated_workers`` had an employment change (`DATED_REGISTRY_EVENTS`):
        their stored card records join ``affected``, to be derived again."""
        for technician_id in changed_workers:
            self._facts.pop(technician_id, None)
        redated = sorted(redated_workers)
        if not redated:
            return
        worker_in, worker_params = tx.is_in("technician_id", redated)
        for technician_id, site_id, work_date in tx.execute(
            "SELECT technician_id, site_id, work_date FROM {work_records} "
            f"WHERE {worker_in} AND source <> %s",
            [*worker_params, RecordSource.MANUAL.value],  # a manual entry names its employer
        ):
            affected[(technician_id, site_id)].add(as_date(work_date))  # type: ignore[arg-type]

    def rebuild(
        self,
        tx: Tx,
        affected: dict[Pair, set[date]],
        new_taps: Iterable[tuple[str, str, TapFact]],
    ) -> None:
        """Rebuild the records around the ``affected`` dates. ``new_taps`` are the counted taps
        this batch appended; the kept facts of workers whose requests or registry changed were
        dropped before (`registry_changed`)."""
        windows: dict[str, tuple[date, date]] = {}  # per worker, over all their sites
        for (technician_id, _), dates in affected.items():
            low, high = min(dates) - WINDOW, max(dates) + WINDOW
            if technician_id in windows:  # another of the worker's sites
                other_low, other_high = windows[technician_id]
                low, high = min(low, other_low), max(high, other_high)
            windows[technician_id] = (low, high)
        self._gather(tx, windows, new_taps)
        changed: list[tuple[str, str, date]] = []
        rows: list[list[Any]] = []
        day_changes = DayChanges()
        for (technician_id, site_id), dates in affected.items():
            facts = self._facts[technician_id]
            taps = facts.taps_between(site_id, min(dates) - WINDOW, max(dates) + WINDOW)
            days = _days_by_date(derive_card_days(taps, self.max_shift))
            for work_date in sorted({d + timedelta(days=k) for d in dates for k in (-1, 0, 1)}):
                key = (site_id, work_date)
                day = days.get(work_date)
                if day is None and key not in facts.requests and key not in facts.stored:
                    continue  # no taps, no requests, no record: nothing to build or remove
                positions = None if day is None else day.positions
                if facts.built_from.get(key, NOT_BUILT) == positions:
                    continue  # built from these very taps: most neighbouring days did not change
                facts.built_from[key] = positions
                row = _record_row(technician_id, site_id, work_date, day, facts)
                stored = facts.stored.pop(key, None)
                if row is not None:
                    facts.stored[key] = _as_stored(row, tx.sqlite)
                    if facts.stored[key] == stored:
                        continue
                    rows.append(row)
                    day_changes.added(technician_id, site_id, work_date, _group(row))
                if stored is not None:
                    changed.append((technician_id, site_id, work_date))
                    day_changes.removed(technician_id, site_id, work_date, _group(stored))
        tx.delete_keys("work_records", RECORD_COLUMNS[:3], ("text", "text", "date"), changed)
        tx.append_rows("work_records", RECORD_COLUMNS, rows, RECORD_TYPES)
        day_changes.write(tx)
        self._facts = {t: facts for t, facts in self._facts.items() if t in windows}
        for technician_id, (low, _) in windows.items():
            self._facts[technician_id].forget_before(low)

    def _gather(
        self,
        tx: Tx,
        windows: dict[str, tuple[date, date]],
        new_taps: Iterable[tuple[str, str, TapFact]],
    ) -> None:
        """Make every worker's facts cover their window, reading only what is not kept: the
        days a kept window grows by are read without this batch's taps, which come as they are."""
        for technician_id, (low, _) in windows.items():
            kept = self._facts.get(technician_id)
            if kept is not None and low < kept.low:
                del self._facts[technician_id]  # an older day: read the whole window again
        kept_workers = {t for t in self._facts if t in windows}
        extending = [t for t in kept_workers if windows[t][1] > self._facts[t].high]
        if extending:
            low = min(self._facts[t].high for t in extending) + timedelta(days=1)
            high = max(windows[t][1] for t in extending)
            earlier = _load(tx, extending, low, high, whole=False, up_to=self._start)
            for technician_id, more in earlier.items():
                _extend(self._facts[technician_id], more, windows[technician_id][1])
        for technician_id, site_id, tap in new_taps:
            kept = self._facts.get(technician_id)
            if kept is not None and kept.low <= tap.jst_day <= kept.high:
                kept.add_tap(site_id, tap)
        missing = [t for t in windows if t not in kept_workers]
        # Read whole, this batch's taps included. A worker whose records are derived again over
        # a long span (an employment change) is read alone: one query's dates span every
        # worker's window, and a career's years would be read for all the others.
        wide = [t for t in missing if windows[t][1] - windows[t][0] > WIDE_WINDOW]
        narrow = [t for t in missing if windows[t][1] - windows[t][0] <= WIDE_WINDOW]
        for group in [*([t] for t in wide), *([narrow] if narrow else [])]:
            low = min(windows[t][0] for t in group)
            high = max(windows[t][1] for t in group)
            self._facts.update(_load(tx, group, low, high, whole=True))


def _extend(facts: WorkerFacts, more: WorkerFacts, high: date) -> None:
    """Add the days after ``facts.high`` up to ``high`` from ``more`` (which may hold others)."""
    after = facts.high
    for site, by_day in more.taps.items():
        for day, taps in by_day.items():
            if after < day <= high:
                facts.taps[site][day] = taps
    for key, requests in more.requests.items():
        if after < key[1] <= high:
            facts.requests[key] = requests
    for key, stored in more.stored.items():
        if after < key[1] <= high:
            facts.stored[key] = stored
    facts.high = high


_GROUP = tuple(RECORD_COLUMNS.index(c) for c in ("employer_business_id", "trade", "status"))


def _group(row: Sequence[Any]) -> tuple[Any, Any, Any]:
    """A record's employer, trade and status: where its day counts (`projections.work_days`)."""
    return row[_GROUP[0]], row[_GROUP[1]], row[_GROUP[2]]


def _as_stored(row: list[Any], sqlite: bool) -> tuple[Any, ...]:
    """A computed row as the database gives it back, to compare with a stored one."""
    if sqlite:
        return tuple(sqlite_value(v) for v in row)
    return tuple(row)


def _days_by_date(days: list[CardDay]) -> dict[date, CardDay]:
    merged: dict[date, CardDay] = {}
    for day in days:
        if day.work_date in merged:  # only with a max_shift under a day; keep one record a date
            merged[day.work_date].taps.extend(day.taps)
        else:
            merged[day.work_date] = day
    return merged


def _load(
    tx: Tx,
    technicians: list[str],
    low: date,
    high: date,
    whole: bool,
    up_to: int | None = None,
) -> dict[str, WorkerFacts]:
    """The workers' facts over ``low`` … ``high``; with ``whole``, their roster and employments;
    with ``up_to``, only the taps projected up to that log position."""
    facts = {technician: WorkerFacts(low, high) for technician in technicians}
    worker_in, worker_params = tx.is_in("technician_id", sorted(technicians))
    start = datetime.combine(low, time(0), JST)
    end = datetime.combine(high + timedelta(days=1), time(0), JST)
    for tech, site, tap_id, at, direction, position, flags, assigned in tx.execute(
        "SELECT technician_id, site_id, tap_id, reader_time, direction, position, flags, "
        "assigned_position "
        f"FROM {{tap_facts}} WHERE {worker_in} AND reader_time >= %s AND reader_time < %s"
        + ("" if up_to is None else " AND position <= %s"),
        [*worker_params, start, end, *([] if up_to is None else [up_to])],
    ):
        tap_flags = tuple(orjson.loads(flags))
        reader_time = as_datetime(at)
        assert reader_time is not None  # NOT NULL column
        if site is not None and counts(tap_flags):
            facts[tech].add_tap(
                site, TapFact(tap_id, reader_time, direction, position, tap_flags, assigned)
            )
    for row in tx.execute(
        "SELECT request_id, kind, technician_id, site_id, work_date, employer_business_id, "
        f"payload, status, positions FROM {{requests}} WHERE {worker_in} "
        "AND work_date >= %s AND work_date <= %s",
        [*worker_params, low, high],
    ):
        work_date = as_date(row[4])
        assert work_date is not None
        facts[row[2]].requests[(row[3], work_date)].append(
            Request(
                row[0],
                row[1],
                work_date,
                row[5],
                orjson.loads(row[6]),
                row[7],
                tuple(orjson.loads(row[8])),
            )
        )
    for row in tx.execute(
        f"SELECT {', '.join(RECORD_COLUMNS)} FROM {{work_records}} WHERE {worker_in} "
        "AND work_date >= %s AND work_date <= %s",
        [*worker_params, low, high],
    ):
        facts[row[0]].stored[(row[1], as_date(row[2]))] = tuple(row)  # type: ignore[index]
    if whole:
        _load_registry(tx, facts, worker_in, worker_params)
    return facts


def _load_registry(
    tx: Tx, facts: dict[str, WorkerFacts], worker_in: str, worker_params: list[Any]
) -> None:
    for site, tech, from_position, employer, trade, role in tx.execute(
        "SELECT site_id, technician_id, from_position, employer_business_id, trade, role_position "
        f"FROM {{roster_history}} WHERE {worker_in}",
        worker_params,
    ):
        facts[tech].roster[site].append((from_position, employer, trade, role))
    for tech, business, since, until, primary in tx.execute(
        "SELECT technician_id, business_id, since, until, is_primary "
        f"FROM {{worker_employments}} WHERE {worker_in}",
        worker_params,
    ):
        facts[tech].employments.append((business, as_date(since), as_date(until), bool(primary)))  # type: ignore[arg-type]


def _record_row(
    technician_id: str, site_id: str, work_date: date, day: CardDay | None, facts: WorkerFacts
) -> list[Any] | None:
    requests = sorted(
        facts.requests.get((site_id, work_date), []),
        key=lambda r: r.decided_position,
    )
    entries = [r for r in requests if r.kind == "ManualEntry"]
    corrections = [r for r in requests if r.kind == "Correction"]
    approved = [r for r in entries if r.status == "approved"]
    fields: dict[str, Any]
    flags: set[str] = set()
    positions: set[int] = {p for r in requests for p in r.positions}
    if day is not None:
        fields = _card_fields(site_id, work_date, day, facts)
        flags.update(day.flags)
        positions.update(day.positions)
        source = RecordSource.PHONE if all(
            tap.tap_id.startswith(PHONE_READER_PREFIX) for tap in day.taps) else RecordSource.CARD
        status = RecordStatus.COUNTED
        if _roster_entry_at(facts, site_id, day.first_tap.position) is None:
            flags.add("not_on_roster")
    elif approved:
        fields = {"employer": approved[-1].employer_business_id}
        source, status = RecordSource.MANUAL, RecordStatus.COUNTED
    elif entries:
        latest = entries[-1]
        fields = {"employer": latest.employer_business_id}
        source, status = RecordSource.MANUAL, RecordStatus(latest.status)
        _apply(fields, latest.payload)
    else:
        return None
    for entry in approved:
        _apply(fields, entry.payload)
        if day is not None:
            source = RecordSource.CORRECTED
    if any(r.status == "pending" for r in entries) and status is RecordStatus.COUNTED:
        flags.add("entry_pending")
    for correction in corrections:
        if correction.status == "approved":
            _apply(fields, correction.payload.get("changes", {}))
            source = RecordSource.CORRECTED
        elif correction.status == "pending":
            flags.add("correction_pending")
    if fields.get("last_exit") is not None:
        flags.discard("missing_exit")
    if fields.get("first_entry") is not None:
        flags.discard("missing_entry")
    first, last = fields.get("first_entry"), fields.get("last_exit")
    minutes = int((last - first).total_seconds() // 60) if first and last else None
    return [
        technician_id,
        site_id,
        work_date,
        fields.get("employer"),
        fields.get("trade"),
        fields.get("position"),
        fields.get("work_content"),
        first,
        last,
        minutes,
        source.value,
        status.value,
        orjson.dumps(sorted(flags)).decode(),
        orjson.dumps(sorted(positions)).decode(),
    ]


def _card_fields(site_id: str, work_date: date, day: CardDay, facts: WorkerFacts) -> dict[str, Any]:
    """Trade, position and employer from the roster as it was when the day's first tap came."""
    fields: dict[str, Any] = {"first_entry": day.first_entry, "last_exit": day.last_exit}
    entry = _roster_entry_at(facts, site_id, day.first_tap.position)
    if entry is not None:
        _, employer, trade, role = entry
        fields |= {"employer": employer, "trade": trade, "position": role}
    else:
        fields["employer"] = _employer_on(facts.employments, work_date)
    return fields


def _roster_entry_at(facts: WorkerFacts, site_id: str, position: int) -> RosterEntry | None:
    """The worker's roster entry on the site as it was at a log position (None: not on it)."""
    entries = [e for e in facts.roster.get(site_id, []) if e[0] < position]
    return max(entries) if entries else None


def _employer_on(employments: list[Employment], day: date) -> str | None:
    covering = [
        (not primary, business)
        for business, since, until, primary in employments
        if since <= day and (until is None or day <= until)
    ]
    return min(covering)[1] if covering else None


def _apply(fields: dict[str, Any], payload: dict[str, Any]) -> None:
    for key in ("trade", "position", "work_content"):
        if payload.get(key) is not None:
            fields[key] = payload[key]
    for key, target in (("entry_at", "first_entry"), ("exit_at", "last_exit")):
        if payload.get(key) is not None:
            fields[target] = as_datetime(payload[key])
