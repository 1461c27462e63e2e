"""レベル判定 — the level a worker has reached in a trade, and what the next level still needs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from projections.levels.criteria import LevelCriteria, TradeCriteria, WorkDaysScope
from projections.levels.gaps import CountedDays, Gap, RouteProgress, assess
from projections.levels.inputs import JudgmentInputs


class CardColour(StrEnum):
    """The CCUS card colour of each level."""

    WHITE = "white"
    BLUE = "blue"
    SILVER = "silver"
    GOLD = "gold"

    @property
    def japanese(self) -> str:
        return _JAPANESE[self]

    @classmethod
    def for_level(cls, level: int) -> CardColour:
        return _BY_LEVEL[level]


_JAPANESE = {CardColour.WHITE: "ホワイト", CardColour.BLUE: "ブルー",
             CardColour.SILVER: "シルバー", CardColour.GOLD: "ゴールド"}
_BY_LEVEL = {1: CardColour.WHITE, 2: CardColour.BLUE, 3: CardColour.SILVER, 4: CardColour.GOLD}


@dataclass(frozen=True)
class Judgment:
    """The result for one worker and trade.

    `reached_route` names the route that met `level` (None at レベル1). For the next level, `routes`
    holds every route ranked closest first (fewest missing items, then fewest missing days, then the
    file's order); `next_route` and `gaps` are the closest one's. At レベル4 there is no next level.
    `counted` shows the day figures used, and `caveats` flags routes resting on unverified criteria.
    """

    trade: str
    technician_id: str | None
    level: int
    card_colour: CardColour
    reached_route: str | None
    next_level: int | None
    next_route: str | None
    gaps: tuple[Gap, ...]
    routes: tuple[RouteProgress, ...]
    counted: CountedDays
    unrecognised_qualifications: tuple[str, ...]
    caveats: tuple[str, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """The closest route's gaps as sentences, e.g. ``needs 23 more 職長 days``."""
        return tuple(gap.text for gap in self.gaps)


def judge(inputs: JudgmentInputs, criteria: TradeCriteria) -> Judgment:
    """Judge the level: a level counts only when every lower level is met too (the tables list
    「レベル2(、3)の基準に示す保有資格」 among a higher level's requirements)."""
    if not criteria.answers_to(inputs.trade):
        raise ValueError(
            f"inputs are for trade {inputs.trade!r} but the criteria are for {criteria.slug!r}"
        )
    counted = _counted(inputs, criteria)
    held = criteria.registry.closure(inputs.held_names())
    level, reached, caveats = 1, None, []
    for level_criteria in criteria.levels:
        ranked = _ranked(level_criteria, counted, held)
        met = next((progress for progress in ranked if progress.met), None)
        if met is None:
            caveats += [
                _caveat(criteria, level_criteria.level, p) for p in ranked if not p.verified
            ]
            return _judgment(inputs, criteria, level, reached, counted, caveats,
                             next_level=level_criteria.level, routes=ranked)
        level, reached = level_criteria.level, met.label
        if not met.verified:
            caveats.append(_caveat(criteria, level, met))
    return _judgment(inputs, criteria, level, reached, counted, caveats, next_level=None, routes=())


def _counted(inputs: JudgmentInputs, criteria: TradeCriteria) -> CountedDays:
    certified_work = sum(c.work_days for c in inputs.certificates)
    certified_foreman = sum(c.foreman_days for c in inputs.certificates)
    certified_team_leader = sum(c.team_leader_days for c in inputs.certificates)
    if criteria.work_days_scope is WorkDaysScope.TRADE:
        work_days, label = inputs.trade_work_days, f"{criteria.name} work days"
    else:
        work_days, label = inputs.work_days, "work days"
    foreman = inputs.foreman_days + certified_foreman
    team_leader = inputs.team_leader_days + certified_team_leader
    return CountedDays(work_days + certified_work, foreman, foreman + team_leader, label)


def _ranked(
    level_criteria: LevelCriteria, counted: CountedDays, held: frozenset[str]
) -> tuple[RouteProgress, ...]:
    progress = [assess(route, counted, held) for route in level_criteria.routes]
    # sorted() is stable, so equally close routes keep the order the criteria file gives them.
    return tuple(sorted(progress, key=lambda p: (p.missing_items, p.missing_days)))


def _caveat(criteria: TradeCriteria, level: int, progress: RouteProgress) -> str:
    return (f"{criteria.name} レベル{level} route {progress.label!r} rests on criteria not "
            f"verified against a readable source; see criteria/{criteria.slug}.toml")


def _judgment(
    inputs: JudgmentInputs,
    criteria: TradeCriteria,
    level: int,
    reached: str | None,
    counted: CountedDays,
    caveats: list[str],
    *,
    next_level: int | None,
    routes: tuple[RouteProgress, ...],
) -> Judgment:
    closest = routes[0] if routes else None
    unrecognised = tuple(sorted({
        q.name for q in inputs.qualifications if criteria.registry.canonical(q.name) is None
    }))
    return Judgment(
        trade=criteria.slug,
        technician_id=inputs.technician_id,
        level=level,
        card_colour=CardColour.for_level(level),
        reached_route=reached,
        next_level=next_level,
        next_route=closest.label if closest else None,
        gaps=closest.gaps if closest else (),
        routes=routes,
        counted=counted,
        unrecognised_qualifications=unrecognised,
        caveats=tuple(caveats),
    )
