"""直接入力 and 訂正 — manual entries and corrections: requested, then decided or expired.

Both may be requested by the worker or an administrator of the worker's employer (not by the site
manager), and become official only when the site's prime contractor approves. Request and approval
must both happen before the end of the month after the work date, JST. Rejected and expired requests
stay in the log and count nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import event

from ledger.actors import Actor, Role
from ledger.clock import JST, approval_deadline, require_aware, require_moment, work_date_of
from ledger.domain.base import LedgerAggregate, Position, require_position, require_text
from ledger.domain.site import Site
from ledger.domain.text import check_text
from ledger.domain.worker import Worker
from ledger.errors import DeadlinePassed, InvalidState, InvalidValue, NotPermitted, UnknownReference
from ledger.ids import BusinessId

MAX_SHIFT = timedelta(hours=24)


class RequestStatus(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


def check_requester(
    actor: Actor, worker: Worker, site: Site, employer_business_id: str, work_date: date
) -> None:
    """The worker, or an administrator of the worker's employer on that date, on that site."""
    if employer_business_id not in worker.employers_on(work_date):
        raise UnknownReference(
            "employer_business_id",
            "request.employer",
            f"the worker is not employed by {employer_business_id} on {work_date}",
        )
    if site.tier_of(employer_business_id) is None:
        raise UnknownReference(
            "employer_business_id",
            "request.employer_on_site",
            "the employer is not the prime or a subcontractor on this site",
        )
    if not site.is_open_on(work_date):
        raise InvalidValue("work_date", "request.site_open", "the site was not open on that date")
    is_worker = actor.role is Role.WORKER and actor.id == worker.technician_id
    is_employer = actor.role is Role.EMPLOYER and actor.id == employer_business_id
    if not (is_worker or is_employer):
        raise NotPermitted(
            "actor",
            "request.requester",
            "only the worker or an administrator of the worker's employer may request this",
        )


def check_request_time(work_date: date, now: datetime) -> None:
    if work_date > work_date_of(now):
        raise InvalidValue("work_date", "request.future", f"{work_date} is in the future")
    deadline = approval_deadline(work_date)
    if now >= deadline:
        raise DeadlinePassed(
            "work_date",
            "request.deadline",
            f"requests for {work_date} closed at the end of "
            f"{(deadline - timedelta(days=1)).strftime('%Y-%m')} (JST)",
        )


def check_times(work_date: date, entry_at: datetime | None, exit_at: datetime | None) -> None:
    if entry_at is not None:
        require_moment(entry_at, "entry_at")
        if work_date_of(entry_at) != work_date:
            raise InvalidValue("entry_at", "times.work_date", "is not on the work date (JST)")
    if exit_at is not None:
        require_moment(exit_at, "exit_at")
        if entry_at is not None:
            if exit_at <= entry_at:
                raise InvalidValue("exit_at", "times.order", "must be after entry_at")
            if exit_at - entry_at > MAX_SHIFT:
                raise InvalidValue("exit_at", "times.max_shift", "a shift lasts at most 24 hours")


def check_decider_grant(actor: Actor, site_id: str) -> None:
    """承認 is the prime's: its 現場管理者 decides only where the prime granted it (the key's
    `approves`) and only on the sites of its scope. Checked here, not at the edge, so the API,
    the CLI and any later caller follow the one rule."""
    if actor.role is not Role.SITE_MANAGER:
        return
    if not actor.scope.approves:
        raise NotPermitted(
            "actor", "site_manager.approves", "the prime has not granted this site manager approval"
        )
    if not actor.scope.covers_site(site_id):
        raise NotPermitted(
            "actor", "site_manager.sites", "the site is not among this site manager's sites"
        )


class ApprovableRequest(LedgerAggregate):
    """The life cycle both manual entries and corrections share."""

    if TYPE_CHECKING:  # set by each subclass's Requested event; the library reads real
        # class annotations as event fields, so these exist for the type checker only
        work_date: date
        site_id: str
        prime_business_id: str
        status: RequestStatus

    @property
    def deadline(self) -> datetime:
        return approval_deadline(self.work_date)

    def approve(self, actor: Actor, now: datetime) -> None:
        self._check_decision(actor, now)
        self._approved(actor, now)

    def reject(self, reason: str, actor: Actor, now: datetime) -> None:
        self._check_decision(actor, now)
        self._rejected(require_text(reason, "reason", max_length=500), actor, now)

    def expire(self, actor: Actor, now: datetime) -> None:
        self._check_pending()
        if now < self.deadline:
            raise InvalidState("status", "request.not_overdue", "the deadline has not passed")
        self._expired(actor, now)

    def _check_decision(self, actor: Actor, now: datetime) -> None:
        deciders = (Role.PRIME_CONTRACTOR, Role.SITE_MANAGER)  # the prime, or its 現場管理者
        if actor.role not in deciders or actor.id != self.prime_business_id:
            raise NotPermitted(
                "actor", "decision.prime", "only the site's prime contractor may decide this"
            )
        check_decider_grant(actor, self.site_id)
        self._check_pending()
        if require_aware(now, "now") >= self.deadline:
            raise DeadlinePassed(
                "work_date",
                "decision.deadline",
                f"decisions for {self.work_date} closed at "
                f"{self.deadline.astimezone(JST).isoformat()}",
            )

    def _check_pending(self) -> None:
        if self.status is not RequestStatus.PENDING:
            raise InvalidState("status", "decision.pending", f"the request is {self.status.value}")

    @event("Approved")
    def _approved(self, actor: Actor, decided_at: datetime) -> None:
        self.status = RequestStatus.APPROVED

    @event("Rejected")
    def _rejected(self, reason: str, actor: Actor, decided_at: datetime) -> None:
        self.status = RequestStatus.REJECTED

    @event("Expired")
    def _expired(self, actor: Actor, decided_at: datetime) -> None:
        self.status = RequestStatus.EXPIRED


class ManualEntry(ApprovableRequest):
    """A work record entered after the fact (forgotten card, missed tap)."""

    @classmethod
    def request(
        cls,
        worker: Worker,
        site: Site,
        work_date: date,
        employer_business_id: str,
        trade: str,
        position: str,
        work_content: str,
        entry_at: datetime | None,
        exit_at: datetime | None,
        note: str,
        actor: Actor,
        now: datetime,
    ) -> ManualEntry:
        employer_business_id = BusinessId(employer_business_id)
        check_request_time(work_date, now)
        check_times(work_date, entry_at, exit_at)
        check_requester(actor, worker, site, employer_business_id, work_date)
        entry: ManualEntry = cls(
            technician_id=worker.technician_id,
            site_id=site.site_id,
            work_date=work_date,
            employer_business_id=employer_business_id,
            prime_business_id=site.prime_business_id,
            trade=require_text(trade, "trade", max_length=40),
            position=require_position(position),
            work_content=require_text(work_content, "work_content", max_length=500),
            entry_at=entry_at,
            exit_at=exit_at,
            note=check_text((note or "").strip(), "note"),
            actor=actor,
            requested_at=now,
        )
        return entry

    @event("Requested")
    def __init__(
        self,
        technician_id: str,
        site_id: str,
        work_date: date,
        employer_business_id: str,
        prime_business_id: str,
        trade: str,
        position: Position,
        work_content: str,
        entry_at: datetime | None,
        exit_at: datetime | None,
        note: str,
        actor: Actor,
        requested_at: datetime,
    ) -> None:
        self.technician_id = technician_id
        self.site_id = site_id
        self.work_date = work_date
        self.employer_business_id = employer_business_id
        self.prime_business_id = prime_business_id
        self.trade = trade
        self.position = position
        self.work_content = work_content
        self.entry_at = entry_at
        self.exit_at = exit_at
        self.status = RequestStatus.PENDING


CORRECTABLE_FIELDS = ("trade", "position", "work_content", "entry_at", "exit_at")


class Correction(ApprovableRequest):
    """A change to one work record's trade, position, work content or times, with a reason.
    The old version stays in the log; the new one counts only once approved."""

    @classmethod
    def request(
        cls,
        worker: Worker,
        site: Site,
        work_date: date,
        employer_business_id: str,
        changes: dict[str, Any],
        reason: str,
        actor: Actor,
        now: datetime,
    ) -> Correction:
        employer_business_id = BusinessId(employer_business_id)
        unknown = sorted(set(changes) - set(CORRECTABLE_FIELDS))
        if unknown:
            raise InvalidValue(
                unknown[0],
                "correction.field",
                f"cannot be corrected (allowed: {', '.join(CORRECTABLE_FIELDS)})",
            )
        cleaned = {key: value for key, value in changes.items() if value is not None}
        if not cleaned:
            raise InvalidValue("changes", "correction.empty", "name at least one field to change")
        if "trade" in cleaned:
            cleaned["trade"] = require_text(cleaned["trade"], "trade", max_length=40)
        if "position" in cleaned:
            cleaned["position"] = require_position(cleaned["position"])
        if "work_content" in cleaned:
            cleaned["work_content"] = require_text(
                cleaned["work_content"], "work_content", max_length=500
            )
        check_request_time(work_date, now)
        check_times(work_date, cleaned.get("entry_at"), cleaned.get("exit_at"))
        check_requester(actor, worker, site, employer_business_id, work_date)
        correction: Correction = cls(
            technician_id=worker.technician_id,
            site_id=site.site_id,
            work_date=work_date,
            employer_business_id=employer_business_id,
            prime_business_id=site.prime_business_id,
            changes=cleaned,
            reason=require_text(reason, "reason", max_length=500),
            actor=actor,
            requested_at=now,
        )
        return correction

    @event("Requested")
    def __init__(
        self,
        technician_id: str,
        site_id: str,
        work_date: date,
        employer_business_id: str,
        prime_business_id: str,
        changes: dict[str, Any],
        reason: str,
        actor: Actor,
        requested_at: datetime,
    ) -> None:
        self.technician_id = technician_id
        self.site_id = site_id
        self.work_date = work_date
        self.employer_business_id = employer_business_id
        self.prime_business_id = prime_business_id
        self.changes = changes
        self.reason = reason
        self.status = RequestStatus.PENDING
