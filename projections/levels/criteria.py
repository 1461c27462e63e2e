"""The shape of one trade's 能力評価基準 once loaded: levels, their alternative routes, and each
route's day thresholds and qualification groups. Loading and validation live in `loader`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from projections.levels.qualifications import QualificationRegistry, normalise

Item = tuple[str, ...]
"""One qualification item: satisfied by any of its canonical names (「A又はB」)."""


class WorkDaysScope(StrEnum):
    ALL_TRADES = "all_trades"
    TRADE = "trade"


class GroupRule(StrEnum):
    ALL_OF = "all_of"
    ONE_OF = "one_of"
    AT_LEAST = "at_least"


@dataclass(frozen=True)
class QualificationGroup:
    """`need` of `items` must be held: all_of → need = len(items); one_of → 1; at_least → N."""

    rule: GroupRule
    need: int
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Route:
    """One way to reach a level. Thresholds are inclusive; 0 means no requirement."""

    label: str
    work_days: int
    foreman_days: int
    foreman_or_team_leader_days: int
    qualifications: tuple[QualificationGroup, ...]
    verified: bool = True


@dataclass(frozen=True)
class LevelCriteria:
    level: int
    routes: tuple[Route, ...]


@dataclass(frozen=True)
class TradeCriteria:
    """A trade's criteria, with the qualification registry its names were checked against."""

    slug: str
    name: str
    aliases: tuple[str, ...]
    ccus_trade_codes: tuple[str, ...]
    work_days_scope: WorkDaysScope
    sources: tuple[str, ...]
    checked_on: date
    levels: tuple[LevelCriteria, ...]
    registry: QualificationRegistry

    def answers_to(self, trade: str) -> bool:
        """True for the slug, the trade name, an alias, or one of the trade's CCUS codes."""
        wanted = normalise(trade)
        spellings = (self.slug, self.name, *self.aliases, *self.ccus_trade_codes)
        return any(normalise(spelling) == wanted for spelling in spellings)
