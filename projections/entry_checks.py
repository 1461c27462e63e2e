"""入場時の確認: the facts the entry checks of a tap rest on, kept with their log positions.

The handlers keep a site's entry rules (Site.EntryChecksRequired, QualificationRequired and
QualificationWithdrawn) and a worker's social-insurance records and qualification expiries.
`entry_facts` reads them for the (site, worker) pairs of a batch of taps; the rule that judges
them is `projections.tap_flags.entry_flags`, called by `judge` only. `facts_from_events` lays
events not projected yet over what the tables hold, for the answer to an upload
(`projections.tap_answers`), so the answer does not depend on how far the projection got.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import orjson

from ledger.domain.site import Site
from ledger.domain.worker import INSURANCE_SCHEMES, Worker
from projections.decoding import EventClass
from projections.registry import handles
from projections.store import Tx, as_date, chunks
from projections.tap_flags import EntryFacts

Pair = tuple[str, str]  # (site_id, technician_id)
SITE_RULE_EVENTS: tuple[EventClass, ...] = (
    Site.EntryChecksRequired,  # type: ignore[attr-defined]
    Site.QualificationRequired,  # type: ignore[attr-defined]
    Site.QualificationWithdrawn,  # type: ignore[attr-defined]
    Site.WorkAreaAssigned,  # type: ignore[attr-defined]
)
_RULE = ("INSERT INTO {site_entry_rules} (position, site_id, kind, qualification, trade, "
         "work_area, reader_id, withdrawn_position) VALUES (%s, %s, %s, %s, %s, %s, %s, NULL)")
WORKER_FACT_EVENTS: tuple[EventClass, ...] = (
    Worker.SocialInsuranceRecorded,  # type: ignore[attr-defined]
    Worker.SocialInsuranceConfirmed,  # type: ignore[attr-defined]
    Worker.QualificationAdded,  # type: ignore[attr-defined]
    Worker.QualificationExpirySet,  # type: ignore[attr-defined]
)


def _day(value: object) -> date:
    """A NOT NULL date column, as a date on both databases."""
    day = as_date(value)
    assert day is not None
    return day


def _value(status: Any) -> str:
    return str(getattr(status, "value", status))


@handles(Site.EntryChecksRequired)  # type: ignore[attr-defined]
def entry_checks_required(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(_RULE, [position, e["site_id"], "checks", None, None, None, None])


@handles(Site.QualificationRequired)  # type: ignore[attr-defined]
def qualification_required(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(_RULE, [position, e["site_id"], "qualification", e["qualification"], e["trade"],
                       e["work_area"], None])


@handles(Site.QualificationWithdrawn)  # type: ignore[attr-defined]
def qualification_withdrawn(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "UPDATE {site_entry_rules} SET withdrawn_position = %s WHERE site_id = %s "
        "AND kind = 'qualification' AND qualification = %s AND trade = %s AND work_area = %s "
        "AND withdrawn_position IS NULL",
        [position, e["site_id"], e["qualification"], e["trade"], e["work_area"]])


@handles(Site.WorkAreaAssigned)  # type: ignore[attr-defined]
def work_area_assigned(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(_RULE, [position, e["site_id"], "work_area", None, None, e["work_area"],
                       e["reader_id"]])


@handles(Site.TrainingInstitutionDeclared)  # type: ignore[attr-defined]
def training_institution_declared(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(_RULE, [position, e["site_id"], "training_institution", None, None, None, None])


def _insurance_row(position: int, e: dict[str, Any]) -> list[Any]:
    return [position, e["technician_id"], e["as_of"],
            *(_value(e[s]) for s in INSURANCE_SCHEMES),
            orjson.dumps(e.get("exempt_reasons") or {}).decode(), str(e["actor"])]


@handles(Worker.SocialInsuranceRecorded)  # type: ignore[attr-defined]
def insurance_recorded(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {worker_insurance_history} (position, technician_id, as_of, health, "
        "pension, employment, exempt_reasons, confirmed_by) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", _insurance_row(position, e))
    status: dict[str, Any] = {s: _value(e[s]) for s in INSURANCE_SCHEMES}
    status |= {"as_of": e["as_of"].isoformat(), "exempt_reasons": e["exempt_reasons"]}
    tx.execute("UPDATE {workers} SET social_insurance = %s WHERE technician_id = %s",
               [orjson.dumps(status).decode(), e["technician_id"]])


@handles(Worker.QualificationExpirySet)  # type: ignore[attr-defined]
def qualification_expiry_set(tx: Tx, position: int, e: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO {worker_qualification_expiries} (position, technician_id, qualification, "
        "expires_on) VALUES (%s, %s, %s, %s)",
        [position, e["technician_id"], e["code"], e["expires_on"]])


class _Facts:
    """EntryFacts under construction, per site and per worker."""

    def __init__(self) -> None:
        self.checks: dict[str, int] = {}
        self.requirements: dict[str, list[tuple[int, int | None, str, str, str]]] = (
            defaultdict(list))
        self.gates: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        self.roster: dict[Pair, list[tuple[int, str]]] = defaultdict(list)
        self.insurance: dict[str, list[tuple[int, date, tuple[str, str, str]]]] = (
            defaultdict(list))
        self.held: dict[str, list[tuple[int, str, date]]] = defaultdict(list)
        self.expiries: dict[str, list[tuple[int, str, date]]] = defaultdict(list)

    def site_rule(self, position: int, site_id: str, kind: str, qualification: str | None,
                  trade: str | None, work_area: str | None, reader_id: str | None,
                  withdrawn: int | None) -> None:
        if kind == "checks":
            self.checks[site_id] = min(position, self.checks.get(site_id, position))
        elif kind == "qualification":
            assert qualification is not None and trade is not None and work_area is not None
            self.requirements[site_id].append(
                (position, withdrawn, qualification, trade, work_area))
        elif kind == "work_area":
            assert reader_id is not None and work_area is not None
            self.gates[site_id].append((position, reader_id, work_area))

    def withdraw(self, position: int, site_id: str, qualification: str, trade: str,
                 work_area: str) -> None:
        rows = self.requirements[site_id]
        for n, (p, withdrawn, q, t, a) in enumerate(rows):
            if (q, t, a) == (qualification, trade, work_area) and withdrawn is None and (
                    p < position):
                rows[n] = (p, position, q, t, a)

    def checked_sites(self) -> set[str]:
        """Sites whose taps any rule concerns (a work area alone flags nothing)."""
        return set(self.checks) | {s for s, rows in self.requirements.items() if rows}

    def of(self, pair: Pair) -> EntryFacts:
        site_id, worker = pair
        return EntryFacts(
            self.checks.get(site_id),
            tuple(sorted(self.roster.get(pair, ()))),
            tuple(sorted(self.insurance.get(worker, ()))),
            tuple(sorted(self.requirements.get(site_id, ()),
                         key=lambda r: (r[0], r[2], r[3]))),
            tuple(sorted(self.held.get(worker, ()))),
            tuple(sorted(self.expiries.get(worker, ()))),
            tuple(sorted(self.gates.get(site_id, ()))),
        )


def entry_facts(
    tx: Tx, pairs: Iterable[Pair], later: Sequence[tuple[int, EventClass, dict[str, Any]]] = ()
) -> dict[Pair, EntryFacts]:
    """The entry facts of these pairs as the read models hold them, with `later` events (of
    the pairs' sites and workers, after the read models' position) laid over them. A pair whose
    site has no entry rule gets none: its taps are judged as before, at no cost."""
    pairs = set(pairs)
    facts = _Facts()
    sites = sorted({s for s, _ in pairs})
    for part in chunks(sites):
        where, params = tx.is_in("site_id", part)
        for row in tx.execute(
                "SELECT position, site_id, kind, qualification, trade, work_area, reader_id, "
                f"withdrawn_position FROM {{site_entry_rules}} WHERE {where}", params):
            facts.site_rule(int(row[0]), row[1], row[2], row[3], row[4], row[5], row[6],
                            None if row[7] is None else int(row[7]))
    for position, event_class, state in later:
        if event_class in SITE_RULE_EVENTS:
            _lay_site_event(facts, position, event_class, state)
    checked = facts.checked_sites()
    pairs = {p for p in pairs if p[0] in checked}
    if not pairs:
        return {}
    workers = sorted({w for _, w in pairs})
    for part in chunks(sorted({s for s, _ in pairs})):
        where, params = tx.is_in("site_id", part)
        for site_id, worker, position, trade in tx.execute(
                "SELECT site_id, technician_id, from_position, trade FROM {roster_history} "
                f"WHERE {where}", params):
            if (site_id, worker) in pairs:
                facts.roster[(site_id, worker)].append((int(position), trade))
    for part in chunks(workers):
        where, params = tx.is_in("technician_id", part)
        for row in tx.execute(
                "SELECT position, technician_id, as_of, health, pension, employment "
                f"FROM {{worker_insurance_history}} WHERE {where}", params):
            facts.insurance[row[1]].append((int(row[0]), _day(row[2]),
                                            (row[3], row[4], row[5])))
        for worker, qualification, position, acquired_on in tx.execute(
                "SELECT technician_id, qualification, position, acquired_on "
                f"FROM {{worker_qualifications}} WHERE {where}", params):
            facts.held[worker].append((int(position), qualification, _day(acquired_on)))
        for row in tx.execute(
                "SELECT position, technician_id, qualification, expires_on "
                f"FROM {{worker_qualification_expiries}} WHERE {where}", params):
            facts.expiries[row[1]].append((int(row[0]), row[2], _day(row[3])))
    for position, event_class, state in later:
        _lay_worker_event(facts, position, event_class, state)
    return {pair: facts.of(pair) for pair in pairs}


def _lay_site_event(facts: _Facts, position: int, event_class: EventClass,
                    e: dict[str, Any]) -> None:
    if event_class is Site.EntryChecksRequired:  # type: ignore[attr-defined]
        facts.site_rule(position, e["site_id"], "checks", None, None, None, None, None)
    elif event_class is Site.QualificationRequired:  # type: ignore[attr-defined]
        facts.site_rule(position, e["site_id"], "qualification", e["qualification"],
                        e["trade"], e["work_area"], None, None)
    elif event_class is Site.QualificationWithdrawn:  # type: ignore[attr-defined]
        facts.withdraw(position, e["site_id"], e["qualification"], e["trade"], e["work_area"])
    elif event_class is Site.WorkAreaAssigned:  # type: ignore[attr-defined]
        facts.site_rule(position, e["site_id"], "work_area", None, None, e["work_area"],
                        e["reader_id"], None)


def _lay_worker_event(facts: _Facts, position: int, event_class: EventClass,
                      e: dict[str, Any]) -> None:
    if event_class is Site.RosterEntrySet:  # type: ignore[attr-defined]
        facts.roster[(e["site_id"], e["technician_id"])].append((position, e["trade"]))
    elif event_class in (Worker.SocialInsuranceRecorded,  # type: ignore[attr-defined]
                         Worker.SocialInsuranceConfirmed):  # type: ignore[attr-defined]
        facts.insurance[e["technician_id"]].append(
            (position, e["as_of"], tuple(_value(e[s]) for s in INSURANCE_SCHEMES)))  # type: ignore[arg-type]
    elif event_class is Worker.QualificationAdded:  # type: ignore[attr-defined]
        facts.held[e["technician_id"]].append((position, e["code"], e["acquired_on"]))
    elif event_class is Worker.QualificationExpirySet:  # type: ignore[attr-defined]
        facts.expiries[e["technician_id"]].append((position, e["code"], e["expires_on"]))
