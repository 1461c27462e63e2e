"""勤怠・労務管理: reported working time, 36 agreements, disaster work, and a site's terms.

Every event names what it is about (worker, employer and month; business; site), so the read
side keeps its rows from the events alone.

Gate time is not working time: the taps give *time on site* (the read side), and working time is
what the employer reports here, as events with who and when. A report is never overwritten: a
later report of the same day or month supersedes it and must say why (a correction).

- `WorkingTimeMonth`: one worker's month under one employer (reports by day or for the month).
- `OvertimeAgreement`: one employer's 36 agreements (36協定) and its disaster-work periods.
- `SiteTerms`: what the prime (or admin) sets for a site: its orderer (発注者), the periods left
  out of the closure rate (year-end holidays, off-site fabrication), and rotating shifts (交替制).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.actors import Actor
from ledger.clock import require_aware
from ledger.domain.base import LedgerAggregate, require_date, require_text
from ledger.domain.labour_rules import STATUTORY_DAY, days_in_month
from ledger.errors import InvalidState, InvalidValue
from ledger.ids import BusinessId, SiteId, TechnicianId, aggregate_id

DAY_MINUTES = 24 * 60


def working_time_month_id(employer_business_id: str, technician_id: str, month: date) -> UUID:
    return aggregate_id(
        "working_time_month", f"{employer_business_id}:{technician_id}:{month:%Y-%m}")


def overtime_agreement_id(business_id: str) -> UUID:
    return aggregate_id("overtime_agreement", business_id)


def site_terms_id(site_id: str) -> UUID:
    return aggregate_id("site_terms", site_id)


def require_month(value: object, field: str = "month") -> date:
    month = require_date(value, field)
    if month.day != 1:
        raise InvalidValue(field, f"{field}.first_day", "a month is given by its first day")
    return month


def require_minutes(value: object, field: str, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(field, f"{field}.type", f"{value!r} is not a whole number of minutes")
    if not 0 <= value <= most:
        raise InvalidValue(field, f"{field}.range", f"must be between 0 and {most} minutes")
    return value


def _reason_if_correcting(reason: str | None, correcting: bool) -> str | None:
    if correcting:
        if reason is None:
            raise InvalidValue(
                "reason", "working_time.correction_reason",
                "a correction of a reported figure must give its reason")
        return require_text(reason, "reason", max_length=500)
    return None if reason is None else require_text(reason, "reason", max_length=500)


class WorkingTimeMonth(LedgerAggregate):
    """労働時間の報告: one worker's month under one employer."""

    @staticmethod
    def create_id(
        employer_business_id: str, technician_id: str, month: date, **_: Any
    ) -> UUID:
        return working_time_month_id(employer_business_id, technician_id, month)

    @classmethod
    def start(
        cls, employer_business_id: str, technician_id: str, month: date, actor: Actor
    ) -> WorkingTimeMonth:
        started: WorkingTimeMonth = cls(
            employer_business_id=BusinessId(employer_business_id),
            technician_id=TechnicianId(technician_id),
            month=require_month(month),
            actor=actor,
        )
        return started

    @event("Started")
    def __init__(
        self, employer_business_id: str, technician_id: str, month: date, actor: Actor
    ) -> None:
        self.employer_business_id = employer_business_id
        self.technician_id = technician_id
        self.month = month
        self.days: dict[date, tuple[int, int, int]] = {}
        self.month_figures: tuple[int, int, int] | None = None

    def report_day(
        self,
        work_date: date,
        statutory: int,
        overtime: int,
        holiday: int,
        reason: str | None,
        actor: Actor,
        reported_at: datetime,
    ) -> None:
        """A worker-day's hours, split into statutory hours, overtime and holiday work."""
        work_date = require_date(work_date, "work_date")
        if work_date.replace(day=1) != self.month:
            raise InvalidValue("work_date", "work_date.month", f"must fall in {self.month:%Y-%m}")
        figures = (
            require_minutes(statutory, "statutory_minutes", STATUTORY_DAY),
            require_minutes(overtime, "overtime_minutes", DAY_MINUTES),
            require_minutes(holiday, "holiday_minutes", DAY_MINUTES),
        )
        if sum(figures) > DAY_MINUTES:
            raise InvalidValue("overtime_minutes", "working_time.day",
                               "a day's hours add up to more than 24 h")
        reason = _reason_if_correcting(reason, work_date in self.days)
        if self.days.get(work_date) == figures:
            raise InvalidState("work_date", "working_time.unchanged",
                               "the day is reported with these figures already")
        self._day_reported(self.employer_business_id, self.technician_id, self.month, work_date,
                           *figures, reason, actor, require_aware(reported_at, "reported_at"))

    # Each report names its worker, employer and month: the read side keeps a month's row from
    # the events alone, without looking the aggregate up.
    @event("DayReported")
    def _day_reported(
        self,
        employer_business_id: str,
        technician_id: str,
        month: date,
        work_date: date,
        statutory_minutes: int,
        overtime_minutes: int,
        holiday_minutes: int,
        reason: str | None,
        actor: Actor,
        reported_at: datetime,
    ) -> None:
        self.days[work_date] = (statutory_minutes, overtime_minutes, holiday_minutes)

    def report_month(
        self,
        statutory: int,
        overtime: int,
        holiday: int,
        reason: str | None,
        actor: Actor,
        reported_at: datetime,
    ) -> None:
        """The month's totals (an employer that keeps no daily figures). They stand for the
        month in place of the sum of its days."""
        days = days_in_month(self.month)
        figures = (
            require_minutes(statutory, "statutory_minutes", days * STATUTORY_DAY),
            require_minutes(overtime, "overtime_minutes", days * DAY_MINUTES),
            require_minutes(holiday, "holiday_minutes", days * DAY_MINUTES),
        )
        if sum(figures) > days * DAY_MINUTES:
            raise InvalidValue("overtime_minutes", "working_time.month",
                               "the month's hours add up to more than its days")
        reason = _reason_if_correcting(reason, self.month_figures is not None)
        if self.month_figures == figures:
            raise InvalidState("month", "working_time.unchanged",
                               "the month is reported with these figures already")
        self._month_reported(self.employer_business_id, self.technician_id, self.month, *figures,
                             reason, actor, require_aware(reported_at, "reported_at"))

    @event("MonthReported")
    def _month_reported(
        self,
        employer_business_id: str,
        technician_id: str,
        month: date,
        statutory_minutes: int,
        overtime_minutes: int,
        holiday_minutes: int,
        reason: str | None,
        actor: Actor,
        reported_at: datetime,
    ) -> None:
        self.month_figures = (statutory_minutes, overtime_minutes, holiday_minutes)


class OvertimeAgreement(LedgerAggregate):
    """36協定: an employer's agreements (each from its first month; a later one with the same
    start month corrects it) and its disaster-work periods (労基法33条)."""

    @staticmethod
    def create_id(business_id: str, **_: Any) -> UUID:
        return overtime_agreement_id(business_id)

    @classmethod
    def start(cls, business_id: str, actor: Actor) -> OvertimeAgreement:
        started: OvertimeAgreement = cls(business_id=BusinessId(business_id), actor=actor)
        return started

    @event("Started")
    def __init__(self, business_id: str, actor: Actor) -> None:
        self.business_id = business_id
        self.agreements: dict[date, bool] = {}
        self.disaster_periods: set[tuple[date, date]] = set()

    def conclude(
        self, start_month: date, special_clause: bool, reason: str | None, actor: Actor
    ) -> None:
        start_month = require_month(start_month, "start_month")
        if not isinstance(special_clause, bool):
            raise InvalidValue("special_clause", "special_clause.type", "must be true or false")
        reason = _reason_if_correcting(reason, start_month in self.agreements)
        if self.agreements.get(start_month) == special_clause:
            raise InvalidState("start_month", "agreement.unchanged",
                               "this agreement is recorded already")
        self._concluded(self.business_id, start_month, special_clause, reason, actor)

    @event("Concluded")
    def _concluded(
        self, business_id: str, start_month: date, special_clause: bool, reason: str | None,
        actor: Actor,
    ) -> None:
        self.agreements[start_month] = special_clause

    def declare_disaster_work(
        self, first_day: date, last_day: date, reason: str, actor: Actor
    ) -> None:
        period = _period(first_day, last_day)
        if period in self.disaster_periods:
            raise InvalidState("first_day", "disaster_work.once", "declared already")
        self._disaster_declared(self.business_id, *period, require_text(reason, "reason", 500),
                                actor)

    @event("DisasterWorkDeclared")
    def _disaster_declared(
        self, business_id: str, first_day: date, last_day: date, reason: str, actor: Actor
    ) -> None:
        self.disaster_periods.add((first_day, last_day))

    def withdraw_disaster_work(
        self, first_day: date, last_day: date, reason: str, actor: Actor
    ) -> None:
        period = _period(first_day, last_day)
        if period not in self.disaster_periods:
            raise InvalidState("first_day", "disaster_work.declared", "no such period declared")
        self._disaster_withdrawn(self.business_id, *period, require_text(reason, "reason", 500),
                                 actor)

    @event("DisasterWorkWithdrawn")
    def _disaster_withdrawn(
        self, business_id: str, first_day: date, last_day: date, reason: str, actor: Actor
    ) -> None:
        self.disaster_periods.discard((first_day, last_day))


def _period(first_day: object, last_day: object) -> tuple[date, date]:
    first = require_date(first_day, "first_day")
    last = require_date(last_day, "last_day")
    if last < first:
        raise InvalidValue("last_day", "period.order", "must not be before first_day")
    return first, last


class ExclusionKind(str, Enum):
    """Periods a site's closure rate leaves out (MLIT 週休2日)."""

    YEAR_END = "year_end"  # 年末年始
    SUMMER = "summer"  # 夏季休暇
    OFF_SITE_FABRICATION = "off_site_fabrication"  # 工場製作のみの期間
    OTHER = "other"


class SiteTerms(LedgerAggregate):
    """What the site's prime (or admin) sets for its labour figures."""

    @staticmethod
    def create_id(site_id: str, **_: Any) -> UUID:
        return site_terms_id(site_id)

    @classmethod
    def start(cls, site_id: str, actor: Actor) -> SiteTerms:
        started: SiteTerms = cls(site_id=SiteId(site_id), actor=actor)
        return started

    @event("Started")
    def __init__(self, site_id: str, actor: Actor) -> None:
        self.site_id = site_id
        self.orderer_business_id: str | None = None
        self.exclusions: set[tuple[date, date]] = set()
        self.rotating_shifts = False

    def name_orderer(self, orderer_business_id: str, actor: Actor) -> None:
        """発注者: the public or private client the site is built for."""
        orderer_business_id = BusinessId(orderer_business_id)
        if orderer_business_id == self.orderer_business_id:
            raise InvalidState("orderer_business_id", "orderer.unchanged", "named already")
        self._orderer_named(self.site_id, orderer_business_id, actor)

    @event("OrdererNamed")
    def _orderer_named(self, site_id: str, orderer_business_id: str, actor: Actor) -> None:
        self.orderer_business_id = orderer_business_id

    def exclude_period(
        self, first_day: date, last_day: date, kind: str, reason: str, actor: Actor
    ) -> None:
        period = _period(first_day, last_day)
        try:
            excluded_kind = ExclusionKind(kind)
        except ValueError:
            allowed = ", ".join(k.value for k in ExclusionKind)
            raise InvalidValue("kind", "kind.enum", f"{kind!r} is not one of {allowed}") from None
        if period in self.exclusions:
            raise InvalidState("first_day", "exclusion.once", "this period is excluded already")
        self._period_excluded(self.site_id, *period, excluded_kind,
                              require_text(reason, "reason", 500), actor)

    @event("PeriodExcluded")
    def _period_excluded(
        self, site_id: str, first_day: date, last_day: date, kind: ExclusionKind, reason: str,
        actor: Actor,
    ) -> None:
        self.exclusions.add((first_day, last_day))

    def withdraw_exclusion(
        self, first_day: date, last_day: date, reason: str, actor: Actor
    ) -> None:
        period = _period(first_day, last_day)
        if period not in self.exclusions:
            raise InvalidState("first_day", "exclusion.exists", "this period is not excluded")
        self._exclusion_withdrawn(self.site_id, *period, require_text(reason, "reason", 500),
                                  actor)

    @event("ExclusionWithdrawn")
    def _exclusion_withdrawn(
        self, site_id: str, first_day: date, last_day: date, reason: str, actor: Actor
    ) -> None:
        self.exclusions.discard((first_day, last_day))

    def set_rotating_shifts(self, rotating: bool, actor: Actor) -> None:
        if not isinstance(rotating, bool):
            raise InvalidValue("rotating_shifts", "rotating_shifts.type", "must be true or false")
        if rotating == self.rotating_shifts:
            raise InvalidState("rotating_shifts", "shifts.unchanged", "set so already")
        self._shifts_set(self.site_id, rotating, actor)

    @event("ShiftsSet")
    def _shifts_set(self, site_id: str, rotating_shifts: bool, actor: Actor) -> None:
        self.rotating_shifts = rotating_shifts
