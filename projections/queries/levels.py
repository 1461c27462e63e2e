"""能力評価 / レベル判定 — a worker's level per trade, judged by ``projections.levels`` from
counted records, 経歴証明, qualifications and foreman training.

Day figures (JudgmentInputs' contract):
- ``work_days``: distinct dates with a counted record in any trade; ``trade_work_days``: in this
  trade. The criteria file says which one its thresholds read.
- 職長 / 班長 days are distinct dates in this trade; a date with both counts as 職長 only.
- 経歴証明: certificates for this trade are passed as one ``CareerCertificate``, their sum bounded
  by the calendar days of the union of their periods (a day is worked once). Certified work days
  in *other* trades are added to ``work_days`` (all trades), never to ``trade_work_days`` nor to
  職長/班長 days, so an all-trades criterion sees every certified day and a trade one only its own;
  all trades together are bounded the same way by the union of every certificate's period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.domain.settlement.career_proof import bound_by_calendar
from projections.levels import (
    CardColour,
    CareerCertificate,
    HeldQualification,
    Judgment,
    JudgmentInputs,
    TradeCriteria,
    judge,
    known_trades,
    load_criteria,
)
from projections.queries._common import Source, reading
from projections.store import Tx, as_date

FOREMAN, TEAM_LEADER = "職長", "班長"


@dataclass(frozen=True)
class LevelFigures:
    """What was read for one trade, before the judge adds certificates to it."""

    work_days: int  # CCUS counted dates, all trades
    trade_work_days: int  # CCUS counted dates in this trade
    foreman_days: int  # 職長 dates in this trade
    team_leader_days: int  # 班長 dates in this trade that are not 職長 dates
    certified: CareerCertificate  # sum of this trade's 経歴証明
    certified_other_trades_days: int  # 経歴証明 work days in other trades (added to work_days)


@dataclass(frozen=True)
class LevelJudgment:
    technician_id: str
    trade: str  # the criteria's slug (tekkin, denki-koji …)
    trade_name: str  # 鉄筋, 電気工事 …
    figures: LevelFigures
    judgment: Judgment

    @property
    def level(self) -> int:
        return self.judgment.level

    @property
    def card_colour(self) -> CardColour:
        return self.judgment.card_colour

    @property
    def missing(self) -> tuple[str, ...]:
        return self.judgment.missing


@dataclass(frozen=True)
class _Career:
    days: frozenset[date]
    by_trade: dict[str, set[date]]
    foreman: dict[str, set[date]]
    team_leader: dict[str, set[date]]
    certificates: list[_Certified]
    qualifications: tuple[HeldQualification, ...]
    foreman_training_on: date | None


def level_judgments(
    source: Source, technician_id: str, trade: str | None = None, as_of: date | None = None
) -> list[LevelJudgment]:
    """One judgment per trade with criteria (or only ``trade``: slug, name, alias or CCUS code;
    an unknown one raises ``UnknownTradeError``). ``as_of``: records up to that date and what was
    held on it; default everything."""
    trades = [load_criteria(trade)] if trade is not None else [
        load_criteria(slug) for slug in known_trades()]
    with reading(source) as tx:
        career = _read_career(tx, technician_id, as_of)
    return [_judge(technician_id, criteria, career, as_of) for criteria in trades]


def _judge(
    technician_id: str, criteria: TradeCriteria, career: _Career, as_of: date | None
) -> LevelJudgment:
    def in_trade(days_by_trade: dict[str, set[date]]) -> set[date]:
        return {d for name, days in days_by_trade.items() if criteria.answers_to(name)
                for d in days}

    foreman = in_trade(career.foreman)
    own = [c for c in career.certificates if criteria.answers_to(c.trade)]
    certified = _within_calendar(own)
    everything = _within_calendar(career.certificates).work_days
    other_days = max(0, everything - certified.work_days)
    figures = LevelFigures(
        work_days=len(career.days), trade_work_days=len(in_trade(career.by_trade)),
        foreman_days=len(foreman), team_leader_days=len(in_trade(career.team_leader) - foreman),
        certified=certified, certified_other_trades_days=other_days,
    )
    inputs = JudgmentInputs(
        trade=criteria.slug, work_days=figures.work_days + other_days,
        trade_work_days=figures.trade_work_days, foreman_days=figures.foreman_days,
        team_leader_days=figures.team_leader_days, certificates=(certified,),
        qualifications=career.qualifications, foreman_training_on=career.foreman_training_on,
        technician_id=technician_id, as_of=as_of,
    )
    return LevelJudgment(technician_id, criteria.slug, criteria.name, figures,
                         judge(inputs, criteria))


def _read_career(tx: Tx, technician_id: str, as_of: date | None) -> _Career:
    limit, params = ("", [technician_id]) if as_of is None else (
        " AND work_date <= %s", [technician_id, as_of])
    days: set[date] = set()
    groups: dict[str, defaultdict[str, set[date]]] = {
        name: defaultdict(set) for name in ("trade", FOREMAN, TEAM_LEADER)}
    for raw_date, trade, position in tx.execute(
        "SELECT work_date, trade, role_position FROM {work_records} "
        f"WHERE technician_id = %s AND status = 'counted'{limit}", params,
    ):
        day = as_date(raw_date)
        assert day is not None
        days.add(day)
        if trade is not None:
            groups["trade"][trade].add(day)
            if position in (FOREMAN, TEAM_LEADER):
                groups[position][trade].add(day)
    return _Career(frozenset(days), groups["trade"], groups[FOREMAN], groups[TEAM_LEADER],
                   _certificates(tx, technician_id), _qualifications(tx, technician_id),
                   _foreman_training_on(tx, technician_id))


@dataclass(frozen=True)
class _Certified:
    trade: str
    period_start: date
    period_end: date
    figures: CareerCertificate


def _within_calendar(certificates: list[_Certified]) -> CareerCertificate:
    """The certificates' sum, but never more days than the calendar days of their periods' union:
    a day is worked once, however many certificates cover it (ledger.domain.worker refuses such
    certificates since Issue 13; this also bounds those recorded before). The rule is
    `bound_by_calendar`, which a career proof's verifier applies too."""
    bounded = bound_by_calendar(((c.period_start, c.period_end) for c in certificates),
                                sum(c.figures.work_days for c in certificates),
                                sum(c.figures.foreman_days for c in certificates),
                                sum(c.figures.team_leader_days for c in certificates))
    return CareerCertificate(bounded.work_days, bounded.foreman_days, bounded.team_leader_days)


def _certificates(tx: Tx, technician_id: str) -> list[_Certified]:
    """Counted certificates only: one proposed by a prime or an upper subcontractor is here once
    the worker confirmed it (projections.registry)."""
    found = []
    for trade, start, end, work, foreman, team_leader in tx.execute(
        "SELECT trade, period_start, period_end, work_days, foreman_days, team_leader_days "
        "FROM {worker_certificates} WHERE technician_id = %s ORDER BY position", [technician_id],
    ):
        period_start, period_end = as_date(start), as_date(end)
        assert period_start is not None and period_end is not None
        found.append(_Certified(trade, period_start, period_end,
                                CareerCertificate(work, foreman, team_leader)))
    return found


def _qualifications(tx: Tx, technician_id: str) -> tuple[HeldQualification, ...]:
    return tuple(HeldQualification(name, as_date(acquired_on)) for name, acquired_on in tx.execute(
        "SELECT qualification, acquired_on FROM {worker_qualifications} "
        "WHERE technician_id = %s ORDER BY position", [technician_id]))


def _foreman_training_on(tx: Tx, technician_id: str) -> date | None:
    rows: list[tuple[Any, ...]] = tx.execute(
        "SELECT foreman_training_on FROM {workers} WHERE technician_id = %s", [technician_id])
    return as_date(rows[0][0]) if rows else None
