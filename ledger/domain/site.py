"""現場 — a site: its prime contractor, Kentaikyo method, subcontract structure and roster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.actors import Actor, Role
from ledger.clock import JST, require_aware, require_moment, work_date_of
from ledger.domain.base import (
    LedgerAggregate,
    Position,
    require_date,
    require_position,
    require_text,
)
from ledger.errors import InvalidState, InvalidValue, NotPermitted, UnknownReference
from ledger.ids import BusinessId, CardId, SiteId, TechnicianId, aggregate_id

# A stated exit falls on its work date or the next day (an overnight shift), JST.
MISSING_EXIT_REACH = timedelta(days=2)


def site_aggregate_id(site_id: str) -> UUID:
    return aggregate_id("site", site_id)


class KentaikyoMethod(str, Enum):
    """Chosen by the prime for the whole site; only electronic sites produce points."""

    ELECTRONIC = "electronic"  # 電子申請方式
    STAMP = "stamp"  # 証紙貼付方式


@dataclass
class RosterEntry:
    """作業員名簿: one worker on this site."""

    technician_id: str
    employer_business_id: str
    trade: str
    position: Position
    since: date


class Site(LedgerAggregate):
    @staticmethod
    def create_id(site_id: str, **_: Any) -> UUID:
        return site_aggregate_id(site_id)

    @classmethod
    def open(
        cls,
        site_id: str,
        name: str,
        prime_business_id: str,
        kentaikyo_method: str,
        opened_on: date,
        actor: Actor,
    ) -> Site:
        try:
            method = KentaikyoMethod(kentaikyo_method)
        except ValueError:
            raise InvalidValue(
                "kentaikyo_method",
                "kentaikyo_method.enum",
                f"{kentaikyo_method!r} is not electronic or stamp",
            ) from None
        prime_business_id = BusinessId(prime_business_id)
        if actor.role is Role.PRIME_CONTRACTOR and actor.id != prime_business_id:
            raise NotPermitted("prime_business_id", "site.open", "a prime opens its own sites only")
        site: Site = cls(
            site_id=SiteId(site_id),
            name=require_text(name, "name"),
            prime_business_id=prime_business_id,
            kentaikyo_method=method,
            opened_on=require_date(opened_on, "opened_on"),
            actor=actor,
        )
        return site

    @event("Opened")
    def __init__(
        self,
        site_id: str,
        name: str,
        prime_business_id: str,
        kentaikyo_method: KentaikyoMethod,
        opened_on: date,
        actor: Actor,
    ) -> None:
        self.site_id = site_id
        self.name = name
        self.prime_business_id = prime_business_id
        self.kentaikyo_method = kentaikyo_method
        self.opened_on = opened_on
        self.closed_on: date | None = None
        # 施工体制: business → (parent business, tier). The prime is tier 0.
        self.subcontracts: dict[str, tuple[str | None, int]] = {prime_business_id: (None, 0)}
        self.roster: dict[str, RosterEntry] = {}
        # 入場時の確認: whether the gate checks the roster and social insurance, and the
        # qualifications required per trade ("" = every trade on the site).
        self.entry_checks = False
        # (qualification, trade, work area): "" = every trade / every area
        self.required_qualifications: set[tuple[str, str, str]] = set()
        self.work_areas: dict[str, str] = {}  # reader → the work area its gate leads into
        # CCUS登録教育訓練機関: a training institution registered as a site.
        self.training_institution = False

    # 施工体制 -------------------------------------------------------------------------------
    def tier_of(self, business_id: str) -> int | None:
        entry = self.subcontracts.get(business_id)
        return None if entry is None else entry[1]

    def add_subcontract(self, business_id: str, parent_business_id: str, actor: Actor) -> None:
        self._check_open()
        business_id = BusinessId(business_id)
        parent_business_id = BusinessId(parent_business_id)
        if parent_business_id not in self.subcontracts:
            raise UnknownReference(
                "parent_business_id", "subcontract.parent", "is not on this site's structure"
            )
        if business_id in self.subcontracts:
            raise InvalidState("business_id", "subcontract.once", "is on this site already")
        if actor.role in (Role.PRIME_CONTRACTOR, Role.EMPLOYER) and actor.id not in (
            self.prime_business_id,
            parent_business_id,
        ):
            raise NotPermitted(
                "actor", "subcontract.actor", "only the prime or the upper subcontractor may add"
            )
        tier = self.subcontracts[parent_business_id][1] + 1
        self._subcontracted(business_id, parent_business_id, tier, actor)

    @event("SubcontractAdded")
    def _subcontracted(
        self, business_id: str, parent_business_id: str, tier: int, actor: Actor
    ) -> None:
        self.subcontracts[business_id] = (parent_business_id, tier)

    def upper_businesses_of(self, business_id: str) -> list[str]:
        """The chain of businesses above one on this site, nearest first (ending with the prime)."""
        chain: list[str] = []
        parent = self.subcontracts.get(business_id, (None, 0))[0]
        while parent is not None:
            chain.append(parent)
            parent = self.subcontracts[parent][0]
        return chain

    # 作業員名簿 -----------------------------------------------------------------------------
    def set_roster_entry(
        self,
        technician_id: str,
        employer_business_id: str,
        trade: str,
        position: str,
        since: date,
        actor: Actor,
    ) -> None:
        self._check_open()
        technician_id = TechnicianId(technician_id)
        employer_business_id = BusinessId(employer_business_id)
        if employer_business_id not in self.subcontracts:
            raise UnknownReference(
                "employer_business_id",
                "roster.employer",
                "the employer is not the prime or a subcontractor on this site",
            )
        if actor.role in (Role.PRIME_CONTRACTOR, Role.EMPLOYER) and actor.id not in (
            employer_business_id,
            *self.upper_businesses_of(employer_business_id),
        ):
            raise NotPermitted("actor", "roster.actor", "may not edit this business's roster")
        self._roster_entry_set(
            technician_id,
            employer_business_id,
            require_text(trade, "trade", max_length=40),
            require_position(position),
            require_date(since, "since"),
            actor,
        )

    @event("RosterEntrySet")
    def _roster_entry_set(
        self,
        technician_id: str,
        employer_business_id: str,
        trade: str,
        position: Position,
        since: date,
        actor: Actor,
    ) -> None:
        self.roster[technician_id] = RosterEntry(
            technician_id, employer_business_id, trade, position, since
        )

    # 入場時の確認 ----------------------------------------------------------------------------
    def require_entry_checks(self, actor: Actor) -> None:
        """From now on a tap by a worker not on the roster, or whose social insurance is not
        confirmed on the tap's day, is flagged (still stored and counted). A site's choice, by
        log position, so taps stored before keep the flags they were answered with."""
        self._check_open()
        if self.entry_checks:
            raise InvalidState("entry_checks", "entry_checks.once", "are required already")
        self._entry_checks_required(actor)

    @event("EntryChecksRequired")
    def _entry_checks_required(self, actor: Actor) -> None:
        self.entry_checks = True

    def require_qualification(
        self, qualification: str, trade: str, actor: Actor, work_area: str = ""
    ) -> None:
        """A qualification the site requires of workers of a trade ("" for every trade), in a
        work area ("" for the whole site; an area is entered through the gates assigned to it):
        a tap by one without it, or whose one has expired on the tap's day, is flagged."""
        self._check_open()
        key = (require_text(qualification, "qualification", max_length=80),
               "" if trade == "" else require_text(trade, "trade", max_length=40),
               "" if work_area == "" else require_text(work_area, "work_area", max_length=80))
        if key in self.required_qualifications:
            raise InvalidState("qualification", "requirement.once", "is required already")
        self._qualification_required(*key, actor)

    @event("QualificationRequired")
    def _qualification_required(
        self, qualification: str, trade: str, work_area: str, actor: Actor
    ) -> None:
        self.required_qualifications.add((qualification, trade, work_area))

    def withdraw_qualification(
        self, qualification: str, trade: str, actor: Actor, work_area: str = ""
    ) -> None:
        if (qualification, trade, work_area) not in self.required_qualifications:
            raise InvalidState("qualification", "requirement.exists", "is not required")
        self._qualification_withdrawn(qualification, trade, work_area, actor)

    @event("QualificationWithdrawn")
    def _qualification_withdrawn(
        self, qualification: str, trade: str, work_area: str, actor: Actor
    ) -> None:
        self.required_qualifications.discard((qualification, trade, work_area))

    def assign_work_area(self, reader_id: str, work_area: str, actor: Actor) -> None:
        """作業区域: the gate of reader `reader_id` (one of this site's, as the application
        checks) leads into `work_area` ("": the site at large) from now on."""
        self._check_open()
        area = "" if work_area == "" else require_text(work_area, "work_area", max_length=80)
        self._work_area_assigned(reader_id, area, actor)

    @event("WorkAreaAssigned")
    def _work_area_assigned(self, reader_id: str, work_area: str, actor: Actor) -> None:
        self.work_areas[reader_id] = work_area

    def declare_training_institution(self, actor: Actor) -> None:
        """CCUS登録教育訓練機関 (from 2025-10-01): its days count as work days, and its site fee
        is borne by the CCUS business office, not billed to the prime (振興基金). The
        application checks who the prime is."""
        if self.training_institution:
            raise InvalidState("kind", "training_institution.once", "is declared already")
        self._training_institution_declared(actor)

    @event("TrainingInstitutionDeclared")
    def _training_institution_declared(self, actor: Actor) -> None:
        self.training_institution = True

    # 例外の解消: the site's staff resolve what its readers flagged -----------------------------
    def _rostered(self, technician_id: str, code: str) -> TechnicianId:
        """A decision about a worker is about one on this site's roster."""
        technician_id = TechnicianId(technician_id)
        if technician_id not in self.roster:
            raise InvalidState("technician_id", code, "is not on this site's roster")
        return technician_id

    def assign_unknown_card(
        self,
        card_id: str,
        tap_id: str,
        technician_id: str,
        reason: str,
        actor: Actor,
        decided_at: datetime,
    ) -> None:
        """Decide that an unknown card seen at this site was a worker on its roster.

        The decision names no days: the read side gives the worker the taps of that card at
        this site that were flagged unknown and stored before the decision (by log position),
        judged as card taps would be. A tap made after it is flagged again and needs a decision
        of its own; a card issued later is its holder's from then on, never this worker's.
        ``tap_id`` is the flagged tap the staff looked at: the application checks that it is a
        stored tap of this card at this site's reader, so a decision rests on a real tap.
        """
        self.check_staff(actor)
        self._unknown_card_assigned(
            CardId(card_id),
            tap_id,
            self._rostered(technician_id, "unknown_card.roster"),
            require_text(reason, "reason", max_length=500),
            actor,
            require_aware(decided_at, "decided_at"),
        )

    @event("UnknownCardAssigned")
    def _unknown_card_assigned(
        self,
        card_id: str,
        tap_id: str,
        technician_id: str,
        reason: str,
        actor: Actor,
        decided_at: datetime,
    ) -> None:
        pass  # the decision changes nothing the site checks later; the read side applies it

    def resolve_missing_exit(
        self,
        technician_id: str,
        work_date: date,
        exit_at: datetime | None,
        reason: str,
        actor: Actor,
        decided_at: datetime,
    ) -> None:
        """Record that a worker on the roster left the site on a past work date whose entry no
        exit closed: at ``exit_at`` as the site's staff state it, or at a time unknown (None).

        It is a statement of the staff, kept beside the record, never a tap: the record keeps
        its card times and its work day (an entry already counts the day), and a real exit tap,
        if one comes later, closes the record as any tap does. On a day with no open entry it
        changes nothing the ledger counts.
        """
        self.check_staff(actor)
        technician_id = self._rostered(technician_id, "missing_exit.roster")
        work_date = require_date(work_date, "work_date")
        decided_at = require_aware(decided_at, "decided_at")
        if work_date >= work_date_of(decided_at):
            raise InvalidValue("work_date", "missing_exit.past", "must be a past work date")
        if exit_at is not None:
            exit_at = require_moment(exit_at, "exit_at")
            start = datetime.combine(work_date, time(0), JST)
            if not start < exit_at < start + MISSING_EXIT_REACH or exit_at > decided_at:
                raise InvalidValue(
                    "exit_at",
                    "missing_exit.exit_at",
                    "must fall on the work date or the next day (JST), and not in the future",
                )
        self._missing_exit_resolved(
            technician_id,
            work_date,
            exit_at,
            require_text(reason, "reason", max_length=500),
            actor,
            decided_at,
        )

    @event("MissingExitResolved")
    def _missing_exit_resolved(
        self,
        technician_id: str,
        work_date: date,
        exit_at: datetime | None,
        reason: str,
        actor: Actor,
        decided_at: datetime,
    ) -> None:
        pass  # a statement kept for the read side; nothing the site checks later

    def check_staff(self, actor: Actor) -> None:
        """Who resolves this site's exceptions: an admin, the prime, or its 現場管理者 — each
        with this site in its key's scope."""
        if actor.role is Role.ADMIN:
            return
        staff = actor.role in (Role.PRIME_CONTRACTOR, Role.SITE_MANAGER)
        if not staff or actor.id != self.prime_business_id:
            raise NotPermitted(
                "actor", "site.staff", "only the site's prime or its site manager may resolve this"
            )
        if not actor.scope.covers_site(self.site_id):
            raise NotPermitted(
                "actor", "site.staff.scope", "the site is not in the scope of this key"
            )

    # 開設 ・ 閉所 ---------------------------------------------------------------------------
    def close(self, closed_on: date, actor: Actor) -> None:
        self._check_open()
        require_date(closed_on, "closed_on")
        if closed_on < self.opened_on:
            raise InvalidValue("closed_on", "site.close", "is before the site opened")
        self._closed(closed_on, actor)

    @event("Closed")
    def _closed(self, closed_on: date, actor: Actor) -> None:
        self.closed_on = closed_on

    def _check_open(self) -> None:
        if self.closed_on is not None:
            raise InvalidState("site_id", "site.closed", f"the site closed on {self.closed_on}")

    def is_open_on(self, day: date) -> bool:
        return self.opened_on <= day and (self.closed_on is None or day <= self.closed_on)
