"""What a worker still lacks on one route: structured gaps, each with the sentence it reads as."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from projections.levels.criteria import GroupRule, Item, QualificationGroup, Route


class GapKind(StrEnum):
    WORK_DAYS = "work_days"
    FOREMAN_DAYS = "foreman_days"
    FOREMAN_OR_TEAM_LEADER_DAYS = "foreman_or_team_leader_days"
    QUALIFICATION = "qualification"


@dataclass(frozen=True)
class CountedDays:
    """The day figures a route is checked against: CCUS work records plus 経歴証明 days."""

    work_days: int
    foreman_days: int
    foreman_or_team_leader_days: int
    work_days_label: str = "work days"


@dataclass(frozen=True)
class Gap:
    """One unmet requirement. For day gaps `required`/`has` are days; for a qualification gap they
    count items of `options` (each option is one item: a name, or names any of which will do)."""

    kind: GapKind
    required: int
    has: int
    text: str
    options: tuple[Item, ...] = ()

    @property
    def missing(self) -> int:
        return self.required - self.has

    @property
    def is_days(self) -> bool:
        return self.kind is not GapKind.QUALIFICATION


@dataclass(frozen=True)
class RouteProgress:
    """A route of the next level with the worker's gaps on it."""

    label: str
    gaps: tuple[Gap, ...]
    verified: bool = True

    @property
    def met(self) -> bool:
        return not self.gaps

    @property
    def missing_items(self) -> int:
        """Things still to get: each short day figure is one, each qualification item is one."""
        return sum(1 if gap.is_days else gap.missing for gap in self.gaps)

    @property
    def missing_days(self) -> int:
        return sum(gap.missing for gap in self.gaps if gap.is_days)


def assess(route: Route, counted: CountedDays, held: frozenset[str]) -> RouteProgress:
    gaps = [*_day_gaps(route, counted)]
    for group in route.qualifications:
        gaps.extend(_group_gaps(group, held))
    return RouteProgress(route.label, tuple(gaps), route.verified)


def _day_gaps(route: Route, counted: CountedDays) -> list[Gap]:
    gaps = []
    if counted.work_days < route.work_days:
        gaps.append(Gap(
            GapKind.WORK_DAYS, route.work_days, counted.work_days,
            f"needs {route.work_days} {counted.work_days_label} (has {counted.work_days})",
        ))
    if counted.foreman_days < route.foreman_days:
        short = route.foreman_days - counted.foreman_days
        gaps.append(Gap(GapKind.FOREMAN_DAYS, route.foreman_days, counted.foreman_days,
                        f"needs {short} more 職長 days"))
    if counted.foreman_or_team_leader_days < route.foreman_or_team_leader_days:
        short = route.foreman_or_team_leader_days - counted.foreman_or_team_leader_days
        gaps.append(Gap(
            GapKind.FOREMAN_OR_TEAM_LEADER_DAYS, route.foreman_or_team_leader_days,
            counted.foreman_or_team_leader_days, f"needs {short} more 職長 or 班長 days",
        ))
    return gaps


def _group_gaps(group: QualificationGroup, held: frozenset[str]) -> list[Gap]:
    lacking = tuple(item for item in group.items if not held.intersection(item))
    has = len(group.items) - len(lacking)
    if has >= group.need:
        return []
    if group.rule is GroupRule.ALL_OF:
        # One gap per missing item: each is a separate thing to obtain.
        return [
            Gap(GapKind.QUALIFICATION, 1, 0, f"needs {_say(item)}", (item,)) for item in lacking
        ]
    if len(group.items) == 1:
        return [Gap(GapKind.QUALIFICATION, 1, 0, f"needs {_say(lacking[0])}", lacking)]
    listed = ", ".join(_say(item) for item in lacking)
    if group.rule is GroupRule.ONE_OF:
        text = f"needs one of: {listed}"
    else:
        text = f"needs {group.need - has} more of: {listed}"
    return [Gap(GapKind.QUALIFICATION, group.need, has, text, lacking)]


def _say(item: Item) -> str:
    return " or ".join(item)
