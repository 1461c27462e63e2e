"""技能者 — a worker: employers, Kentaikyo enrollment, qualifications, career certificates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.actors import Actor
from ledger.domain.base import LedgerAggregate, require_date, require_text
from ledger.errors import DeadlinePassed, InvalidState, InvalidValue, NotPermitted
from ledger.ids import BusinessId, TechnicianId, aggregate_id

# 経歴証明: certified periods end no later than this, and certificates are accepted until the
# second date (nittoso.or.jp/2594).
CAREER_CERTIFICATE_PERIOD_END = date(2024, 3, 31)
CAREER_CERTIFICATE_ACCEPTED_UNTIL = date(2029, 3, 31)


def worker_aggregate_id(technician_id: str) -> UUID:
    return aggregate_id("worker", technician_id)


class InsuranceStatus(str, Enum):
    ENROLLED = "enrolled"  # 加入
    EXEMPT = "exempt"  # 適用除外
    NOT_ENROLLED = "not_enrolled"  # 未加入


class CertifierRelation(str, Enum):
    EMPLOYER = "employer"
    UPPER_SUBCONTRACTOR = "upper_subcontractor"
    PRIME_CONTRACTOR = "prime_contractor"


@dataclass
class Employment:
    business_id: str
    since: date
    until: date | None
    primary: bool

    def covers(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day <= self.until)


class Worker(LedgerAggregate):
    @staticmethod
    def create_id(technician_id: str, **_: Any) -> UUID:
        return worker_aggregate_id(technician_id)

    @classmethod
    def register(cls, technician_id: str, name: str, actor: Actor) -> Worker:
        worker: Worker = cls(
            technician_id=TechnicianId(technician_id), name=require_text(name, "name"), actor=actor
        )
        return worker

    @event("Registered")
    def __init__(self, technician_id: str, name: str, actor: Actor) -> None:
        self.technician_id = technician_id
        self.name = name
        self.employments: list[Employment] = []
        self.kentaikyo_member_number: str | None = None
        self.kentaikyo_since: date | None = None
        self.qualifications: dict[str, date] = {}
        self.foreman_training_on: date | None = None
        self.social_insurance: dict[str, InsuranceStatus] = {}
        self.career_certificates: list[dict[str, Any]] = []

    # 所属事業者 -------------------------------------------------------------------------------
    def employers_on(self, day: date) -> set[str]:
        return {e.business_id for e in self.employments if e.covers(day)}

    def join_employer(self, business_id: str, since: date, primary: bool, actor: Actor) -> None:
        business_id = BusinessId(business_id)
        require_date(since, "since")
        for employment in self.employments:
            if employment.business_id == business_id and (
                employment.until is None or employment.until >= since
            ):
                raise InvalidState(
                    "business_id", "employment.overlap", "the worker is employed there already"
                )
        self._joined(business_id, since, bool(primary), actor)

    @event("EmploymentStarted")
    def _joined(self, business_id: str, since: date, primary: bool, actor: Actor) -> None:
        if primary or not any(e.primary and e.until is None for e in self.employments):
            for employment in self.employments:
                employment.primary = False
            primary = True
        self.employments.append(Employment(business_id, since, None, primary))

    def leave_employer(self, business_id: str, until: date, actor: Actor) -> None:
        require_date(until, "until")
        current = self._current_employment(BusinessId(business_id))
        if until < current.since:
            raise InvalidValue("until", "employment.period", "must not be before the start date")
        self._left(business_id, until, actor)

    @event("EmploymentEnded")
    def _left(self, business_id: str, until: date, actor: Actor) -> None:
        current = self._current_employment(business_id)
        current.until = until
        if current.primary:
            current.primary = False
            remaining = [e for e in self.employments if e.until is None]
            if remaining:  # the earliest remaining employer becomes primary
                min(remaining, key=lambda e: (e.since, e.business_id)).primary = True

    def _current_employment(self, business_id: str) -> Employment:
        for employment in self.employments:
            if employment.business_id == business_id and employment.until is None:
                return employment
        raise InvalidState("business_id", "employment.current", "the worker is not employed there")

    @property
    def primary_employer(self) -> str | None:
        for employment in self.employments:
            if employment.primary and employment.until is None:
                return employment.business_id
        return None

    # 建退共 ---------------------------------------------------------------------------------
    def enroll_in_kentaikyo(self, member_number: str, since: date, actor: Actor) -> None:
        """被共済者: enrolled from a date; only days from then on earn points."""
        if self.kentaikyo_member_number is not None:
            raise InvalidState("kentaikyo", "kentaikyo.once", "the worker is enrolled already")
        if not isinstance(member_number, str) or not member_number.isdigit():
            raise InvalidValue("member_number", "member_number.format", "must be digits")
        self._enrolled(member_number, require_date(since, "since"), actor)

    @event("KentaikyoEnrolled")
    def _enrolled(self, member_number: str, since: date, actor: Actor) -> None:
        self.kentaikyo_member_number = member_number
        self.kentaikyo_since = since

    def is_enrolled_on(self, day: date) -> bool:
        return self.kentaikyo_since is not None and self.kentaikyo_since <= day

    # 保有資格 ・ 職長教育 ・ 社会保険 ---------------------------------------------------------
    def add_qualification(self, code: str, acquired_on: date, actor: Actor) -> None:
        code = require_text(code, "qualification", max_length=80)
        if code in self.qualifications:
            raise InvalidState("qualification", "qualification.once", f"{code} is recorded already")
        self._qualified(code, require_date(acquired_on, "acquired_on"), actor)

    @event("QualificationAdded")
    def _qualified(self, code: str, acquired_on: date, actor: Actor) -> None:
        self.qualifications[code] = acquired_on

    def complete_foreman_training(self, completed_on: date, actor: Actor) -> None:
        self._trained(require_date(completed_on, "completed_on"), actor)

    @event("ForemanTrainingCompleted")
    def _trained(self, completed_on: date, actor: Actor) -> None:
        self.foreman_training_on = completed_on

    def confirm_social_insurance(
        self, health: str, pension: str, employment: str, as_of: date, actor: Actor
    ) -> None:
        statuses = {}
        for scheme, value in (("health", health), ("pension", pension), ("employment", employment)):
            try:
                statuses[scheme] = InsuranceStatus(value)
            except ValueError:
                allowed = ", ".join(s.value for s in InsuranceStatus)
                raise InvalidValue(
                    scheme, f"{scheme}.enum", f"{value!r} is not {allowed}"
                ) from None
        self._insurance_confirmed(
            statuses["health"],
            statuses["pension"],
            statuses["employment"],
            require_date(as_of, "as_of"),
            actor,
        )

    @event("SocialInsuranceConfirmed")
    def _insurance_confirmed(
        self,
        health: InsuranceStatus,
        pension: InsuranceStatus,
        employment: InsuranceStatus,
        as_of: date,
        actor: Actor,
    ) -> None:
        self.social_insurance = {"health": health, "pension": pension, "employment": employment}

    @property
    def social_insurance_confirmed(self) -> bool:
        """Confirmed when every scheme is enrolled or exempt (作業員名簿 since 2020-10)."""
        return len(self.social_insurance) == 3 and all(
            status is not InsuranceStatus.NOT_ENROLLED for status in self.social_insurance.values()
        )

    # 経歴証明 -------------------------------------------------------------------------------
    def certify_career(
        self,
        certifier_business_id: str,
        relation: str,
        trade: str,
        period_start: date,
        period_end: date,
        work_days: int,
        foreman_days: int,
        team_leader_days: int,
        certified_on: date,
        actor: Actor,
    ) -> None:
        """Record employer-certified days before CCUS use. The figures are stored as certified;
        they are never inferred from the length of the period."""
        certifier_business_id = BusinessId(certifier_business_id)
        try:
            certifier_relation = CertifierRelation(relation)
        except ValueError:
            raise InvalidValue("relation", "relation.enum", f"{relation!r} is not valid") from None
        trade = require_text(trade, "trade", max_length=40)
        for name, day in (
            ("period_start", period_start),
            ("period_end", period_end),
            ("certified_on", certified_on),
        ):
            require_date(day, name)
        if certifier_relation is CertifierRelation.EMPLOYER and certifier_business_id not in {
            e.business_id for e in self.employments
        }:
            raise NotPermitted(
                "certifier_business_id",
                "career_certificate.employer",
                "certifies as the employer but never employed this worker",
            )
        self._check_certificate_period(period_start, period_end, certified_on)
        self._check_certificate_days(
            period_start, period_end, work_days, foreman_days, team_leader_days
        )
        self._career_certified(
            certifier_business_id,
            certifier_relation,
            trade,
            period_start,
            period_end,
            work_days,
            foreman_days,
            team_leader_days,
            certified_on,
            actor,
        )

    def _check_certificate_period(self, start: date, end: date, certified_on: date) -> None:
        if certified_on > CAREER_CERTIFICATE_ACCEPTED_UNTIL:
            raise DeadlinePassed(
                "certified_on",
                "career_certificate.accepted_until",
                f"career certificates are accepted until {CAREER_CERTIFICATE_ACCEPTED_UNTIL}",
            )
        if end > CAREER_CERTIFICATE_PERIOD_END:
            raise InvalidValue(
                "period_end",
                "career_certificate.period_end",
                f"a certified period ends no later than {CAREER_CERTIFICATE_PERIOD_END}",
            )
        if start > end:
            raise InvalidValue("period_start", "career_certificate.period", "is after period_end")
        if not self.qualifications:
            raise InvalidValue(
                "period_start",
                "career_certificate.qualification",
                "the worker has no registered qualification to start a certified period from",
            )
        earliest = min(self.qualifications.values())
        if start < earliest:
            raise InvalidValue(
                "period_start",
                "career_certificate.qualification",
                f"starts before the worker's earliest registered qualification ({earliest})",
            )

    @staticmethod
    def _check_certificate_days(
        start: date, end: date, work_days: int, foreman_days: int, team_leader_days: int
    ) -> None:
        calendar_days = (end - start).days + 1
        for name, days in (
            ("work_days", work_days),
            ("foreman_days", foreman_days),
            ("team_leader_days", team_leader_days),
        ):
            if not isinstance(days, int) or isinstance(days, bool) or days < 0:
                raise InvalidValue(name, f"{name}.range", "must be a whole number ≥ 0")
        if work_days > calendar_days:
            raise InvalidValue(
                "work_days",
                "career_certificate.days",
                f"{work_days} days do not fit in a period of {calendar_days} calendar days",
            )
        if foreman_days + team_leader_days > work_days:
            raise InvalidValue(
                "foreman_days",
                "career_certificate.days",
                "foreman and team-leader days together exceed the work days",
            )

    @event("CareerCertified")
    def _career_certified(
        self,
        certifier_business_id: str,
        relation: CertifierRelation,
        trade: str,
        period_start: date,
        period_end: date,
        work_days: int,
        foreman_days: int,
        team_leader_days: int,
        certified_on: date,
        actor: Actor,
    ) -> None:
        self.career_certificates.append(
            {
                "certifier_business_id": certifier_business_id,
                "relation": relation,
                "trade": trade,
                "period_start": period_start,
                "period_end": period_end,
                "work_days": work_days,
                "foreman_days": foreman_days,
                "team_leader_days": team_leader_days,
                "certified_on": certified_on,
            }
        )
