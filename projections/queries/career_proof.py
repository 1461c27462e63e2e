"""経歴証明 (career proof): the signed statement of a worker's days in one trade, with the
inclusion proof of every event behind each counted record (`ledger.domain.settlement.career_proof`
is its format and offline check).

The figures are level judgment's (`level_judgments`, as of `date_to`): the records counted there
are the records listed here, split into those whose events every signed seal covers (proven) and
those it does not yet (left out, each named). Only sealed days can be proven.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import clock
from ledger.application import Ledger
from ledger.domain.settlement.career_proof import (
    CareerProof,
    Certificate,
    LeftOut,
    ProvenEvent,
    ProvenRecord,
    count_days,
)
from ledger.domain.settlement.heads import KeyStatement, key_id_of, public_key_bytes
from ledger.errors import InvalidState, InvalidValue
from ledger.storage import seal_key
from projections.jobs.seal_proofs import prove_events, sealed_days
from projections.levels import UnknownTradeError, load_criteria
from projections.queries.levels import level_judgments
from projections.store import ReadStore, Tx, as_date


def signing_key(ledger: Ledger) -> Ed25519PrivateKey:
    """The seal key file's key, which must be the ledger's current seal key: a proof signed by
    any other key would not join the signed heads it carries."""
    path = ledger.settings.seal_key_path
    keys = ledger.seal_keys()
    if keys is None:
        raise InvalidState("seal_key", "seal.none",
                           "the ledger has no seal key yet: nothing is sealed (run `ledger seal`)")
    if not path.exists():
        raise InvalidState("seal_key_file", "seal.key_file",
                           f"{path} does not exist; the ledger's seal key is "
                           f"{keys.current.key_id}")
    key = seal_key.load(path)
    key_id = key_id_of(public_key_bytes(key))
    if key_id != keys.current.key_id:
        raise InvalidState("seal_key_file", "seal.key_chain",
                           f"{path} holds key {key_id}, but the ledger's current seal key is "
                           f"{keys.current.key_id}: a career proof is signed only by the current "
                           "key")
    return key


def build_career_proof(
    ledger: Ledger, store: ReadStore, technician_id: str, trade: str, date_to: date | None,
    key: Ed25519PrivateKey,
) -> CareerProof:
    """The worker's signed career proof in `trade` up to `date_to` (default: the last sealed
    day). Raises InvalidValue for an unknown trade, InvalidState when nothing is sealed."""
    try:
        criteria = load_criteria(trade)
    except UnknownTradeError as error:
        raise InvalidValue("trade", "trade.known", str(error)) from None
    days = sealed_days(store)
    if not days:
        raise InvalidState("date_to", "seal.none", "no day is sealed yet: nothing can be proven")
    sealed_through, last_sealed = days[-1].day, days[-1].last_position
    until = date_to or sealed_through
    with store.read() as tx:
        rows = _counted_records(tx, technician_id, until)
        (judged,) = level_judgments(tx, technician_id, criteria.slug, as_of=until)
        certificates = [c for c in _certificates(tx, technician_id)
                        if criteria.answers_to(c[0])]
    trade_names = sorted({row[2] for row in rows if row[2] and criteria.answers_to(row[2])})
    # Signed seals cover a contiguous run of the log: after the first signed day's start (days
    # sealed before seals were signed have no head to prove to) up to the last sealed day.
    signed_from = days[0].first_position
    def provable(row: Row) -> bool:
        return bool(row[6]) and signed_from < min(row[6]) and max(row[6]) <= last_sealed

    proven_rows = [row for row in rows if provable(row)]
    left_out = [LeftOut(row[0], row[1], row[2], row[3], _why_left_out(
        row[6], signed_from, days[0].day, last_sealed, sealed_through))
        for row in rows if not provable(row)]
    proofs, heads = prove_events(ledger, store, [p for row in proven_rows for p in row[6]])
    records = [ProvenRecord(site, day, row_trade, position, employer, source,
                            tuple(ProvenEvent(p, proofs[p].leaf().hex()) for p in positions))
               for site, day, row_trade, position, employer, source, positions in proven_rows]
    f = judged.figures
    ledger_figures = count_days([(r[1], r[2], r[3]) for r in rows], trade_names)
    if (ledger_figures.work_days, ledger_figures.trade_work_days, ledger_figures.foreman_days,
            ledger_figures.team_leader_days) != (f.work_days, f.trade_work_days, f.foreman_days,
                                                 f.team_leader_days):
        raise RuntimeError(f"the counted records of {technician_id} ({ledger_figures}) disagree "
                           f"with their level judgment ({f})")
    with store.read() as tx:
        cards, readers = _links(tx, technician_id, [p.content() for p in proofs.values()])
    keys = ledger.seal_keys()
    statements: list[KeyStatement] = [] if keys is None else list(keys.statements)
    statement = {
        "technician_id": technician_id, "trade": criteria.slug, "trade_name": criteria.name,
        "trade_names": trade_names,
        "period": {"from": min((r[1] for r in rows), default=until).isoformat() if rows
                   else None, "to": until.isoformat()},
        "sealed_through": sealed_through.isoformat(),
        "issued_on": clock.work_date_of(clock.now()).isoformat(),
        "max_shift_hours": int(ledger.settings.max_shift_hours),
        "figures": {
            "proven": count_days([(r.work_date, r.trade, r.position) for r in records],
                                 trade_names).as_dict(),
            "ledger": ledger_figures.as_dict(),
            "certified": {"work_days": f.certified.work_days,
                          "foreman_days": f.certified.foreman_days,
                          "team_leader_days": f.certified.team_leader_days},
            "certified_other_trades_days": f.certified_other_trades_days,
        },
        "certificates": [Certificate(*c[1:]).as_dict() for c in certificates],
        "records": [r.as_dict() for r in records],
        "left_out": [r.as_dict() for r in left_out],
        "cards": cards, "readers": readers,
        "key_id": key_id_of(public_key_bytes(key)),
    }
    return CareerProof.sign(statement, key, [proofs[p] for p in sorted(proofs)],
                            [heads[d] for d in sorted(heads)], statements)


Row = tuple[str, date, str | None, str | None, str | None, str, tuple[int, ...]]


def _why_left_out(
    positions: tuple[int, ...], signed_from: int, first_signed: date, last_sealed: int,
    sealed_through: date,
) -> str:
    if positions and max(positions) > last_sealed:
        return (f"an event behind it was recorded after {sealed_through}, the last sealed day")
    return (f"an event behind it was sealed before {first_signed}, when seals were not yet "
            "signed")


def _counted_records(tx: Tx, technician_id: str, until: date) -> list[Row]:
    """Every counted record up to `until`, in every trade (all-trades work days are a level
    input too), by date and site."""
    found: list[Row] = []
    for site, day, trade, position, employer, source, positions in tx.execute(
        "SELECT site_id, work_date, trade, role_position, employer_business_id, source, "
        "event_positions FROM {work_records} WHERE technician_id = %s AND status = 'counted' "
        "AND work_date <= %s ORDER BY work_date, site_id", [technician_id, until],
    ):
        work_date = as_date(day)
        assert work_date is not None
        found.append((site, work_date, trade, position, employer, source,
                      tuple(sorted(orjson.loads(positions)))))
    return found


def _certificates(tx: Tx, technician_id: str) -> list[tuple[Any, ...]]:
    """(trade, position, certifier, start, end, work, 職長, 班長) of each counted 経歴証明."""
    return [(trade, int(position), certifier, as_date(start), as_date(end), int(work),
             int(foreman), int(leader))
            for position, trade, certifier, start, end, work, foreman, leader in tx.execute(
                "SELECT position, trade, certifier_business_id, period_start, period_end, "
                "work_days, foreman_days, team_leader_days FROM {worker_certificates} "
                "WHERE technician_id = %s ORDER BY position", [technician_id])]


def _links(
    tx: Tx, technician_id: str, contents: Sequence[dict[str, Any]]
) -> tuple[dict[str, str], dict[str, str]]:
    """The ledger's registry for the cards and readers the proven taps name: the cards issued
    to the worker, and each reader's site."""
    card_ids = sorted({str(c["card_id"]) for c in contents
                       if c.get("card_id") and "reader_id" in c})
    reader_ids = sorted({str(c["reader_id"]) for c in contents if c.get("reader_id")})
    cards: dict[str, str] = {}
    readers: dict[str, str] = {}
    if card_ids:
        where, params = tx.is_in("card_id", card_ids)
        cards = {str(card): str(holder) for card, holder in tx.execute(
            f"SELECT card_id, technician_id FROM {{card_registry}} WHERE {where} "
            "AND technician_id = %s", [*params, technician_id])}
    if reader_ids:
        where, params = tx.is_in("reader_id", reader_ids)
        readers = {str(reader): str(site) for reader, site in tx.execute(
            f"SELECT reader_id, site_id FROM {{reader_registry}} WHERE {where}", params)}
    return cards, readers
