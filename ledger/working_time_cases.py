"""The `Ledger`'s use cases for working time, 36 agreements and a site's labour terms.

A mixin of `ledger.application.Ledger`, kept in a module of its own so the application's file
grows by a line: load (or start), check who acts, call, save. Who may write:
- reported working time: the worker's employer on the day (or in the month), or admin; a worker
  the business does not see is answered as absent (`ledger.privacy.worker_visible`);
- a 36 agreement and disaster work: the business itself (事業者), or admin;
- a site's terms (its orderer, excluded periods, rotating shifts): the site's prime, or admin;
  a site the actor has no relation with is answered as absent (`relates_to_site`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.persistence import RecordConflictError

from ledger import clock
from ledger.actors import Actor, Role
from ledger.domain.base import LedgerAggregate
from ledger.domain.business import Business
from ledger.domain.labour_rules import add_months
from ledger.domain.site import Site
from ledger.domain.worker import Worker
from ledger.domain.working_time import (
    OvertimeAgreement,
    SiteTerms,
    WorkingTimeMonth,
    overtime_agreement_id,
    require_month,
    site_terms_id,
    working_time_month_id,
)
from ledger.errors import InvalidState, InvalidValue, NotPermitted
from ledger.ids import BusinessId, SiteId
from ledger.privacy import hidden, relates_to_site, worker_visible

T = TypeVar("T", bound=LedgerAggregate)
RETRIES = 3


class _Parts(Protocol):
    """What the use cases need of the `Ledger`."""

    @property
    def repository(self) -> Repository[UUID]: ...

    def save(self, *objs: Any, **kwargs: Any) -> Any: ...

    def worker(self, technician_id: str) -> Worker: ...

    def site(self, site_id: str) -> Site: ...

    def business(self, business_id: str) -> Business: ...


def _upsert(
    ledger: _Parts, kind: type[T], aggregate_id: UUID, start: Callable[[], T],
    command: Callable[[T], object],
) -> T:
    """Load the aggregate (or start it), run the command, save; again if someone saved first."""
    for attempt in range(RETRIES):
        try:
            found: object = ledger.repository.get(aggregate_id)
        except AggregateNotFoundError:
            found = start()
        if not isinstance(found, kind):
            raise AssertionError(f"{aggregate_id} is not a {kind.__name__}")
        command(found)
        try:
            ledger.save(found)
        except RecordConflictError:
            if attempt == RETRIES - 1:
                raise InvalidState("actor", "concurrent_update",
                                   "changed by someone else; try again") from None
            continue
        return found
    raise AssertionError("unreachable")


def _employer_of(actor: Actor, employer_business_id: str | None) -> str:
    """The employer a report is made for: the acting employer itself, or the one admin names."""
    if actor.role is Role.EMPLOYER:
        if employer_business_id not in (None, actor.id):
            raise NotPermitted("employer_business_id", "working_time.employer",
                               "an employer reports its own workers' time only")
        return actor.id
    if actor.role is Role.ADMIN:
        if employer_business_id is None:
            raise InvalidValue("employer_business_id", "employer_business_id.required",
                               "admin names the employer")
        return BusinessId(employer_business_id)
    raise NotPermitted("actor", "actor.role", f"{actor.role.value} may not report working time")


def _require_business_itself(ledger: _Parts, actor: Actor, business_id: str) -> str:
    business_id = BusinessId(business_id)
    if actor.role is Role.ADMIN:
        ledger.business(business_id)  # registered
        return business_id
    if actor.role not in (Role.EMPLOYER, Role.PRIME_CONTRACTOR):
        raise NotPermitted("actor", "actor.role",
                           f"{actor.role.value} may not record a 36 agreement")
    if actor.id != business_id or not actor.scope.whole:
        raise hidden("business_id", business_id)
    return business_id


def _site_for_prime(ledger: _Parts, actor: Actor, site_id: str) -> str:
    if actor.role not in (Role.ADMIN, Role.PRIME_CONTRACTOR):
        raise NotPermitted("actor", "actor.role",
                           f"{actor.role.value} may not set a site's terms")
    site = ledger.site(SiteId(site_id))
    if not relates_to_site(actor, site):
        raise hidden("site_id", site.site_id)
    if actor.role is not Role.ADMIN and actor.id != site.prime_business_id:
        raise NotPermitted("actor", "site.prime", "only the site's prime contractor may do this")
    return site.site_id


def _reporting(
    ledger: _Parts, actor: Actor, employer_business_id: str | None, technician_id: str,
    days: Sequence[date],
) -> tuple[str, Worker]:
    employer = _employer_of(actor, employer_business_id)
    worker = ledger.worker(technician_id)
    if not worker_visible(actor, worker):
        raise hidden("technician_id", worker.technician_id)
    if not any(employer in worker.employers_on(day) for day in days):
        raise InvalidState("technician_id", "working_time.employment",
                           f"{employer} does not employ the worker then")
    return employer, worker


def _agreement(
    ledger: _Parts, actor: Actor, business_id: str, command: Callable[[OvertimeAgreement], object]
) -> None:
    business_id = _require_business_itself(ledger, actor, business_id)
    _upsert(ledger, OvertimeAgreement, overtime_agreement_id(business_id),
            lambda: OvertimeAgreement.start(business_id, actor), command)


def _site_terms(
    ledger: _Parts, actor: Actor, site_id: str, command: Callable[[SiteTerms], object]
) -> None:
    site_id = _site_for_prime(ledger, actor, site_id)
    _upsert(ledger, SiteTerms, site_terms_id(site_id),
            lambda: SiteTerms.start(site_id, actor), command)


class WorkingTimeCases:
    # -- reported working time --------------------------------------------------------------------
    def report_working_day(
        self: _Parts,
        technician_id: str,
        work_date: date,
        statutory_minutes: int,
        overtime_minutes: int,
        holiday_minutes: int,
        actor: Actor,
        employer_business_id: str | None = None,
        reason: str | None = None,
    ) -> UUID:
        """労働時間: a worker-day's hours as the employer reports them (a second report of the
        day corrects the first, with its reason)."""
        if not isinstance(work_date, date):
            raise InvalidValue("work_date", "work_date.type", f"{work_date!r} is not a date")
        employer, worker = _reporting(
            self, actor, employer_business_id, technician_id, [work_date])
        month = work_date.replace(day=1)
        reported = _upsert(
            self, WorkingTimeMonth, working_time_month_id(employer, worker.technician_id, month),
            lambda: WorkingTimeMonth.start(employer, worker.technician_id, month, actor),
            lambda m: m.report_day(work_date, statutory_minutes, overtime_minutes,
                                   holiday_minutes, reason, actor, clock.now()),
        )
        return reported.id

    def report_working_month(
        self: _Parts,
        technician_id: str,
        month: date,
        statutory_minutes: int,
        overtime_minutes: int,
        holiday_minutes: int,
        actor: Actor,
        employer_business_id: str | None = None,
        reason: str | None = None,
    ) -> UUID:
        """A month's totals, for an employer that keeps no daily figures."""
        month = require_month(month)
        last = add_months(month, 1)
        days = [date.fromordinal(d) for d in range(month.toordinal(), last.toordinal())]
        employer, worker = _reporting(
            self, actor, employer_business_id, technician_id, days)
        reported = _upsert(
            self, WorkingTimeMonth, working_time_month_id(employer, worker.technician_id, month),
            lambda: WorkingTimeMonth.start(employer, worker.technician_id, month, actor),
            lambda m: m.report_month(statutory_minutes, overtime_minutes, holiday_minutes,
                                     reason, actor, clock.now()),
        )
        return reported.id

    # -- 36 agreements and disaster work ----------------------------------------------------------
    def conclude_overtime_agreement(
        self: _Parts, business_id: str, start_month: date, special_clause: bool, actor: Actor,
        reason: str | None = None,
    ) -> None:
        """36協定: from `start_month`, one year at a time; a later one with the same start
        month corrects it (with its reason)."""
        _agreement(self, actor, business_id,
                        lambda a: a.conclude(start_month, special_clause, reason, actor))

    def declare_disaster_work(
        self: _Parts, business_id: str, first_day: date, last_day: date, reason: str, actor: Actor
    ) -> None:
        """労基法33条: the 100 h and 80 h limits are lifted for this period's months."""
        _agreement(self, actor, business_id,
                        lambda a: a.declare_disaster_work(first_day, last_day, reason, actor))

    def withdraw_disaster_work(
        self: _Parts, business_id: str, first_day: date, last_day: date, reason: str, actor: Actor
    ) -> None:
        _agreement(self, actor, business_id,
                        lambda a: a.withdraw_disaster_work(first_day, last_day, reason, actor))

    # -- a site's terms ---------------------------------------------------------------------------
    def name_site_orderer(
        self: _Parts, site_id: str, orderer_business_id: str, actor: Actor) -> None:
        """発注者: the orderer reads the site's aggregates (never personal data)."""
        def command(terms: SiteTerms) -> None:
            self.business(orderer_business_id)
            terms.name_orderer(orderer_business_id, actor)

        _site_terms(self, actor, site_id, command)

    def exclude_closure_period(
        self: _Parts, site_id: str, first_day: date, last_day: date, kind: str, reason: str,
        actor: Actor,
    ) -> None:
        """A period the closure rate leaves out (year-end holidays, off-site fabrication)."""
        _site_terms(self, actor, site_id,
                         lambda t: t.exclude_period(first_day, last_day, kind, reason, actor))

    def withdraw_closure_exclusion(
        self: _Parts, site_id: str, first_day: date, last_day: date, reason: str, actor: Actor
    ) -> None:
        _site_terms(self, actor, site_id,
                         lambda t: t.withdraw_exclusion(first_day, last_day, reason, actor))

    def set_rotating_shifts(
        self: _Parts, site_id: str, rotating: bool, actor: Actor) -> None:
        """交替制: the site's 週休2日 is each worker's days off, not site closure."""
        _site_terms(self, actor, site_id, lambda t: t.set_rotating_shifts(rotating, actor))
