"""What the read side knows about one worker (技能者) in one trade, as the judge's input."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from projections.levels.qualifications import FOREMAN_TRAINING


def _require_days(owner: str, **figures: int) -> None:
    for field, value in figures.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{owner}.{field} must be a non-negative whole number, got {value!r}")


@dataclass(frozen=True)
class HeldQualification:
    """A qualification, course or award registered for the worker (保有資格), by code or name."""

    name: str
    acquired_on: date | None = None


@dataclass(frozen=True)
class CareerCertificate:
    """経歴証明: days before CCUS use, certified by an employer, an upper subcontractor or the
    prime contractor. The figures are taken as certified (never derived from the period's length)
    and add to the days counted from CCUS work records."""

    work_days: int = 0
    foreman_days: int = 0
    team_leader_days: int = 0

    def __post_init__(self) -> None:
        _require_days("CareerCertificate", work_days=self.work_days,
                      foreman_days=self.foreman_days, team_leader_days=self.team_leader_days)


@dataclass(frozen=True)
class JudgmentInputs:
    """Numbers computed by the read side from the event log for one worker and one trade.

    `work_days` counts distinct dates with a counted work record (就業日数) in every trade;
    `trade_work_days` counts those in this trade only. Each criteria file says which one it uses.
    `foreman_days` (職長) and `team_leader_days` (班長) must be distinct dates, and a date counted
    as 職長 must not be counted again as 班長, because the criteria add the two together.
    Qualifications acquired after `as_of`, and foreman training completed after it, do not count.
    """

    trade: str
    work_days: int
    trade_work_days: int
    foreman_days: int = 0
    team_leader_days: int = 0
    certificates: tuple[CareerCertificate, ...] = ()
    qualifications: tuple[HeldQualification, ...] = ()
    foreman_training_on: date | None = None
    technician_id: str | None = None
    as_of: date | None = None

    def __post_init__(self) -> None:
        _require_days("JudgmentInputs", work_days=self.work_days,
                      trade_work_days=self.trade_work_days, foreman_days=self.foreman_days,
                      team_leader_days=self.team_leader_days)
        if self.trade_work_days > self.work_days:
            raise ValueError(
                f"trade_work_days ({self.trade_work_days}) exceeds work_days in all trades "
                f"({self.work_days})"
            )

    def held_names(self) -> Iterator[str]:
        """Names of what the worker holds on `as_of`, foreman training included (職長教育 is listed
        among the 保有資格 in the criteria tables)."""
        for qualification in self.qualifications:
            if self._counts_on(qualification.acquired_on):
                yield qualification.name
        if self.foreman_training_on is not None and self._counts_on(self.foreman_training_on):
            yield FOREMAN_TRAINING

    def _counts_on(self, day: date | None) -> bool:
        return self.as_of is None or day is None or day <= self.as_of
