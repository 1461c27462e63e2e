"""技能者 — a worker: employers, Kentaikyo enrollment, qualifications, career certificates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.actors import Actor
from ledger.domain.base import LedgerAggregate, require_date, require_text
from ledger.errors import (
    DeadlinePassed,
    InvalidState,
    InvalidValue,
    NotPermitted,
    UnknownReference,
)
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
    UNCONFIRMED = "unconfirmed"  # 未確認: nobody has checked it yet


INSURANCE_SCHEMES = ("health", "pension", "employment")  # 健康保険, 年金保険, 雇用保険


@dataclass(frozen=True)
class InsuranceRecord:
    """社会保険加入状況 as someone confirmed it on a date: each scheme's status, and for an exempt
    scheme the reason (適用除外の理由). Checked on construction, before any worker is loaded."""

    health: InsuranceStatus
    pension: InsuranceStatus
    employment: InsuranceStatus
    as_of: date
    exempt_reasons: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for scheme in INSURANCE_SCHEMES:
            value = getattr(self, scheme)
            try:
                object.__setattr__(self, scheme, InsuranceStatus(value))
            except ValueError:
                allowed = ", ".join(s.value for s in InsuranceStatus)
                raise InvalidValue(
                    scheme, f"{scheme}.enum", f"{value!r} is not {allowed}") from None
        require_date(self.as_of, "as_of")
        reasons = dict(self.exempt_reasons)
        for scheme, reason in reasons.items():
            if scheme not in INSURANCE_SCHEMES:
                raise InvalidValue("exempt_reasons", "exempt_reasons.scheme",
                                   f"{scheme!r} is not a scheme")
            if getattr(self, scheme) is not InsuranceStatus.EXEMPT:
                raise InvalidValue("exempt_reasons", "exempt_reasons.exempt",
                                   f"{scheme} is not exempt")
            reasons[scheme] = require_text(reason, "exempt_reasons", max_length=200)
        for scheme in INSURANCE_SCHEMES:
            if getattr(self, scheme) is InsuranceStatus.EXEMPT and scheme not in reasons:
                raise InvalidValue("exempt_reasons", "exempt_reasons.required",
                                   f"{scheme} is exempt: name the reason")
        object.__setattr__(self, "exempt_reasons", tuple(sorted(reasons.items())))

    def statuses(self) -> dict[str, str]:
        return {scheme: getattr(self, scheme).value for scheme in INSURANCE_SCHEMES}


class CertifierRelation(str, Enum):
    EMPLOYER = "employer"
    UPPER_SUBCONTRACTOR = "upper_subcontractor"
    PRIME_CONTRACTOR = "prime_contractor"


def certifier_relation(value: object) -> CertifierRelation:
    """The relation as stated (enum or its text), refused by name when it is none of them."""
    try:
        return CertifierRelation(value)
    except ValueError:
        raise InvalidValue("relation", "relation.enum", f"{value!r} is not valid") from None


@dataclass(frozen=True)
class CertificateClaim:
    """経歴証明 as a certifier states it: who certifies in which relation, for which trade, over
    which period, and the figures it certifies. Built by whoever takes the request and passed
    whole through the application to the worker. Its own form is checked on construction, before
    anything is loaded, so a refusal here says nothing about any worker; the date it is certified
    on (the ledger's clock) and what depends on the worker's record are checked later."""

    certifier_business_id: str
    relation: CertifierRelation
    trade: str
    period_start: date
    period_end: date
    work_days: int
    foreman_days: int = 0
    team_leader_days: int = 0

    def __post_init__(self) -> None:
        # Frozen: the normalised values are set once, here, as the dataclass' own __init__ does.
        object.__setattr__(self, "certifier_business_id", BusinessId(self.certifier_business_id))
        object.__setattr__(self, "relation", certifier_relation(self.relation))
        object.__setattr__(self, "trade", require_text(self.trade, "trade", max_length=40))
        require_date(self.period_start, "period_start")
        require_date(self.period_end, "period_end")
        if self.period_end > CAREER_CERTIFICATE_PERIOD_END:
            raise InvalidValue(
                "period_end",
                "career_certificate.period_end",
                f"a certified period ends no later than {CAREER_CERTIFICATE_PERIOD_END}",
            )
        if self.period_start > self.period_end:
            raise InvalidValue("period_start", "career_certificate.period", "is after period_end")
        for name, days in (
            ("work_days", self.work_days),
            ("foreman_days", self.foreman_days),
            ("team_leader_days", self.team_leader_days),
        ):
            if not isinstance(days, int) or isinstance(days, bool) or days < 0:
                raise InvalidValue(name, f"{name}.range", "must be a whole number ≥ 0")
        calendar_days = (self.period_end - self.period_start).days + 1
        if self.work_days > calendar_days:
            raise InvalidValue(
                "work_days",
                "career_certificate.days",
                f"{self.work_days} days do not fit in a period of {calendar_days} calendar days",
            )
        if self.foreman_days + self.team_leader_days > self.work_days:
            raise InvalidValue(
                "foreman_days",
                "career_certificate.days",
                "foreman and team-leader days together exceed the work days",
            )

    def check_certified_on(self, certified_on: date) -> None:
        """The day the ledger takes the certificate: within the acceptance period, and not
        before the certified period ends."""
        require_date(certified_on, "certified_on")
        if certified_on > CAREER_CERTIFICATE_ACCEPTED_UNTIL:
            raise DeadlinePassed(
                "certified_on",
                "career_certificate.accepted_until",
                f"career certificates are accepted until {CAREER_CERTIFICATE_ACCEPTED_UNTIL}",
            )
        if self.period_end > certified_on:
            raise InvalidValue("period_end", "career_certificate.future", "is in the future")

    def event_fields(self) -> dict[str, Any]:
        """The figures as the certificate events store them (one attribute each, as before the
        claim was an object, so stored events keep their shape)."""
        return asdict(self)


@dataclass
class EmploymentRequest:
    """A business's claim to employ a registered worker; it counts once the worker confirms."""

    business_id: str
    since: date
    primary: bool


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
        self.qualification_expiries: dict[str, date] = {}
        self.career_certificates: list[dict[str, Any]] = []
        # Claims that count only once the worker (or someone acting for them) confirms them.
        self.employment_requests: dict[str, EmploymentRequest] = {}
        self.certificate_proposals: dict[str, dict[str, Any]] = {}

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
        self.employment_requests.pop(business_id, None)
        self._joined_state(business_id, since, primary)

    def _joined_state(self, business_id: str, since: date, primary: bool) -> None:
        if primary or not any(e.primary and e.until is None for e in self.employments):
            for employment in self.employments:
                employment.primary = False
            primary = True
        self.employments.append(Employment(business_id, since, None, bool(primary)))

    def employs(self, business_id: str, since: date) -> bool:
        """Whether an employment of this business is open on or after `since`."""
        return any(
            e.business_id == business_id and (e.until is None or e.until >= since)
            for e in self.employments
        )

    def request_employment(
        self, business_id: str, since: date, primary: bool, actor: Actor
    ) -> bool:
        """所属事業者の関連付け by a business: a request the worker confirms. Asking again while
        a request is pending changes nothing (False), so a repeat cannot tell anything new."""
        business_id = BusinessId(business_id)
        require_date(since, "since")
        if self.employs(business_id, since):
            raise InvalidState(
                "business_id", "employment.overlap", "the worker is employed there already"
            )
        if business_id in self.employment_requests:
            return False
        self._employment_requested(business_id, since, bool(primary), actor)
        return True

    @event("EmploymentRequested")
    def _employment_requested(
        self, business_id: str, since: date, primary: bool, actor: Actor
    ) -> None:
        self.employment_requests[business_id] = EmploymentRequest(business_id, since, primary)

    def confirm_employment(self, business_id: str, actor: Actor) -> None:
        request = self._pending_employment(BusinessId(business_id))
        if self.employs(request.business_id, request.since):
            raise InvalidState(
                "business_id", "employment.overlap", "the worker is employed there already"
            )
        self._employment_confirmed(request.business_id, request.since, request.primary, actor)

    @event("EmploymentConfirmed")
    def _employment_confirmed(
        self, business_id: str, since: date, primary: bool, actor: Actor
    ) -> None:
        del self.employment_requests[business_id]
        self._joined_state(business_id, since, primary)

    def decline_employment(self, business_id: str, actor: Actor) -> None:
        request = self._pending_employment(BusinessId(business_id))
        self._employment_declined(request.business_id, actor)

    @event("EmploymentDeclined")
    def _employment_declined(self, business_id: str, actor: Actor) -> None:
        del self.employment_requests[business_id]

    def _pending_employment(self, business_id: str) -> EmploymentRequest:
        request = self.employment_requests.get(business_id)
        if request is None:
            raise UnknownReference(
                "business_id", "employment_request.exists", f"{business_id} has no pending request"
            )
        return request

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

    def set_qualification_expiry(self, code: str, expires_on: date, actor: Actor) -> None:
        """有効期限 of a held qualification (a licence, 技能講習, special education, a health
        check): set when it is recorded, and again when it is renewed. The latest one counts."""
        code = require_text(code, "qualification", max_length=80)
        if code not in self.qualifications:
            raise InvalidState("qualification", "qualification.held", f"{code} is not recorded")
        require_date(expires_on, "expires_on")
        if expires_on < self.qualifications[code]:
            raise InvalidValue("expires_on", "expires_on.range",
                               "is before the qualification was acquired")
        self._qualification_expiry_set(code, expires_on, actor)

    @event("QualificationExpirySet")
    def _qualification_expiry_set(self, code: str, expires_on: date, actor: Actor) -> None:
        self.qualification_expiries[code] = expires_on

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

    def record_social_insurance(self, record: InsuranceRecord, actor: Actor) -> None:
        """The status as confirmed on `record.as_of` by `actor` (who confirmed it, and when, is
        the event's): unconfirmed and exempt-with-reason included."""
        self._insurance_recorded(
            record.health.value, record.pension.value, record.employment.value,
            dict(record.exempt_reasons), record.as_of, actor)

    @event("SocialInsuranceRecorded")
    def _insurance_recorded(
        self,
        health: str,
        pension: str,
        employment: str,
        exempt_reasons: dict[str, str],
        as_of: date,
        actor: Actor,
    ) -> None:
        self.social_insurance = {"health": InsuranceStatus(health),
                                 "pension": InsuranceStatus(pension),
                                 "employment": InsuranceStatus(employment)}

    @property
    def social_insurance_confirmed(self) -> bool:
        """Confirmed when every scheme is enrolled or exempt (作業員名簿 since 2020-10)."""
        return len(self.social_insurance) == 3 and all(
            status in (InsuranceStatus.ENROLLED, InsuranceStatus.EXEMPT)
            for status in self.social_insurance.values()
        )

    # 経歴証明 -------------------------------------------------------------------------------
    def certify_career(self, claim: CertificateClaim, certified_on: date, actor: Actor) -> None:
        """Record employer-certified days before CCUS use. The figures are stored as certified;
        they are never inferred from the length of the period. Only an employer certifies
        directly, and only a period in which it employed the worker as recorded here."""
        claim.check_certified_on(certified_on)
        if claim.relation is not CertifierRelation.EMPLOYER:
            raise InvalidValue(
                "relation",
                "career_certificate.confirmation",
                "a certificate as prime or upper subcontractor is proposed, and counts once the "
                "worker confirms it",
            )
        self._check_employed_through(
            claim.certifier_business_id, claim.period_start, claim.period_end
        )
        self._check_counts(claim.trade, claim.period_start, claim.period_end, claim.work_days)
        self._career_certified(**claim.event_fields(), certified_on=certified_on, actor=actor)

    def propose_career_certificate(
        self,
        certificate_id: str,
        claim: CertificateClaim,
        certified_on: date,
        basis: str,
        actor: Actor,
    ) -> None:
        """経歴証明 by the prime or an upper subcontractor, whose pre-CCUS sites are not in the
        ledger: it names what it rests on (`basis`) and counts only once the worker confirms it.
        Only the certificate's own form is checked here; what depends on the worker's record
        is checked when it is confirmed."""
        basis = proposal_basis(claim, certified_on, basis)
        if certificate_id in self.certificate_proposals:
            raise InvalidState("certificate_id", "career_certificate.once", "is proposed already")
        self._certificate_proposed(
            certificate_id, **claim.event_fields(), certified_on=certified_on, basis=basis,
            actor=actor,
        )

    @event("CareerCertificateProposed")
    def _certificate_proposed(
        self,
        certificate_id: str,
        certifier_business_id: str,
        relation: CertifierRelation,
        trade: str,
        period_start: date,
        period_end: date,
        work_days: int,
        foreman_days: int,
        team_leader_days: int,
        certified_on: date,
        basis: str,
        actor: Actor,
    ) -> None:
        self.certificate_proposals[certificate_id] = {
            "certifier_business_id": certifier_business_id,
            "relation": relation,
            "trade": trade,
            "period_start": period_start,
            "period_end": period_end,
            "work_days": work_days,
            "foreman_days": foreman_days,
            "team_leader_days": team_leader_days,
            "certified_on": certified_on,
            "basis": basis,
        }

    def confirm_career_certificate(self, certificate_id: str, actor: Actor) -> None:
        proposal = self._proposal(certificate_id)
        self._check_counts(
            proposal["trade"], proposal["period_start"], proposal["period_end"],
            proposal["work_days"],
        )
        self._certificate_confirmed(certificate_id, **proposal, actor=actor)

    @event("CareerCertificateConfirmed")
    def _certificate_confirmed(
        self,
        certificate_id: str,
        certifier_business_id: str,
        relation: CertifierRelation,
        trade: str,
        period_start: date,
        period_end: date,
        work_days: int,
        foreman_days: int,
        team_leader_days: int,
        certified_on: date,
        basis: str,
        actor: Actor,
    ) -> None:
        # The confirmation repeats the figures so that what counts is in one event.
        del self.certificate_proposals[certificate_id]
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
                "basis": basis,
            }
        )

    def decline_career_certificate(self, certificate_id: str, actor: Actor) -> None:
        self._proposal(certificate_id)
        self._certificate_declined(certificate_id, actor)

    @event("CareerCertificateDeclined")
    def _certificate_declined(self, certificate_id: str, actor: Actor) -> None:
        del self.certificate_proposals[certificate_id]

    def _proposal(self, certificate_id: str) -> dict[str, Any]:
        proposal = self.certificate_proposals.get(certificate_id)
        if proposal is None:
            raise UnknownReference(
                "certificate_id",
                "certificate_id.exists",
                f"{certificate_id} is not registered",
            )
        return proposal

    def _check_employed_through(self, business_id: str, start: date, end: date) -> None:
        """Every day of the period falls in one of this business's recorded employments."""
        periods = sorted(
            ((e.since, e.until) for e in self.employments if e.business_id == business_id),
            key=lambda period: period[0],
        )
        if not periods:
            raise NotPermitted(
                "certifier_business_id",
                "career_certificate.employer",
                "certifies as the employer but never employed this worker",
            )
        covered_to = start - timedelta(days=1)
        for since, until in periods:
            if since > covered_to + timedelta(days=1):
                break  # a gap before this employment
            if until is None:
                covered_to = max(covered_to, end)
                break
            covered_to = max(covered_to, until)
        if covered_to < end:
            raise InvalidValue(
                "period_start" if periods[0][0] > start else "period_end",
                "career_certificate.employment",
                "the period is not within the certifier's recorded employment of the worker",
            )

    def _check_counts(self, trade: str, start: date, end: date, work_days: int) -> None:
        """What depends on the worker's record: the earliest qualification, and the calendar."""
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
        same_trade = [
            (c["period_start"], c["period_end"], c["work_days"])
            for c in self.career_certificates
            if c["trade"] == trade
        ] + [(start, end, work_days)]
        certified = sum(days for _, _, days in same_trade)
        calendar = union_calendar_days((s, e) for s, e, _ in same_trade)
        if certified > calendar:
            raise InvalidValue(
                "work_days",
                "career_certificate.calendar",
                f"{trade} certificates would certify {certified} days within "
                f"{calendar} calendar days (the union of their periods)",
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


def union_calendar_days(periods: Iterable[tuple[date, date]]) -> int:
    """Calendar days covered by at least one of the periods (both ends inclusive)."""
    total = 0
    covered_to: date | None = None
    for start, end in sorted(periods):
        if covered_to is not None and start <= covered_to:
            start = covered_to + timedelta(days=1)
        if start <= end:
            total += (end - start).days + 1
        covered_to = end if covered_to is None else max(covered_to, end)
    return total


def proposal_basis(claim: CertificateClaim, certified_on: date, basis: str) -> str:
    """What a proposal must be, whoever it is about: dated within the acceptance period, by the
    prime or an upper subcontractor (an employer certifies directly), resting on a named basis.
    Checked by the application before the worker is loaded, and by the worker itself."""
    claim.check_certified_on(certified_on)
    if claim.relation is CertifierRelation.EMPLOYER:
        raise InvalidValue(
            "relation", "career_certificate.proposal", "an employer certifies directly"
        )
    return require_text(basis, "basis", max_length=500)
