"""The Ledger application: its public methods are the write-side use cases."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from functools import cached_property
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, RecordConflictError, StoredEvent, Transcoder
from eventsourcing.utils import resolve_topic

from ledger import clock
from ledger.actors import Actor, Role
from ledger.domain.base import LedgerAggregate, Position, require_date, require_text
from ledger.domain.business import Business, business_aggregate_id
from ledger.domain.gate_codes import (
    check_code,
    issue_printed_code,
    issue_screen_code,
    scan_moment,
)
from ledger.domain.geo import Area
from ledger.domain.kentaikyo_account import (
    KentaikyoAccount,
    ReportedDay,
    account_aggregate_id,
)
from ledger.domain.phone import (
    PhoneDevice,
    PhoneTap,
    SiteArea,
    phone_device_aggregate_id,
    site_area_aggregate_id,
)
from ledger.domain.registry import (
    Card,
    DirectionMode,
    Reader,
    card_aggregate_id,
    reader_aggregate_id,
)
from ledger.domain.requests import (
    ApprovableRequest,
    Correction,
    ManualEntry,
    RequestStatus,
)
from ledger.domain.settlement import (
    MAX_EVENT_BYTES,
    DailySeal,
    DayClose,
    KentaikyoSettlement,
    LineSet,
    SealKeys,
    SettlementTally,
    SiteFeeAccount,
    UsageKey,
    check_job_actor,
    months_between,
    seal_keys_id,
    settlement_id,
    site_fee_account_id,
)
from ledger.domain.settlement.heads import KeyStatement
from ledger.domain.site import KentaikyoMethod, Site, site_aggregate_id
from ledger.domain.taps import (
    Direction,
    Tap,
    TapObservation,
    conflict_aggregate_id,
    tap_aggregate_id,
)
from ledger.domain.worker import (
    CertificateClaim,
    CertifierRelation,
    InsuranceRecord,
    InsuranceStatus,
    Worker,
    proposal_basis,
    worker_aggregate_id,
)
from ledger.domain.working_time import ExclusionKind
from ledger.errors import (
    AlreadyExists,
    InvalidState,
    InvalidValue,
    NotPermitted,
    UnknownReference,
)
from ledger.ids import BusinessId, CardId, ReaderId, SiteId, TapId, TechnicianId
from ledger.phone_entry import (
    credential_id_of,
    parse_payload,
    registration_options,
    verify_registration,
    verify_tap,
)
from ledger.privacy import may_show_gate_code, relates_to_site, visible_worker
from ledger.settings import Settings, get_settings
from ledger.storage import SkipsDuplicates, StoredStates, gate_code_key
from ledger.storage.lines import LineStore
from ledger.storage.tap_events import RecordedTaps, TapMapper
from ledger.transcoder import ledger_transcoder
from ledger.working_time_cases import WorkingTimeCases

ENUMS: tuple[type[Enum], ...] = (
    Role,
    Direction,
    DirectionMode,
    KentaikyoMethod,
    Position,
    RequestStatus,
    InsuranceStatus,
    CertifierRelation,
    ExclusionKind,
)
A = TypeVar("A", bound=LedgerAggregate)
CONFLICT_RETRIES = 3


class Registration(str, Enum):
    """What a registration or an employment claim came to."""

    REGISTERED = "registered"
    EMPLOYMENT_REQUESTED = "employment_requested"  # counts once the worker confirms it


@dataclass(frozen=True)
class TapReceipt:
    tap_id: str  # canonical (`TapId`)
    status: str  # "accepted" | "duplicate" | "conflict"
    position: int | None  # notification ID of the stored event, for read-your-writes
    # The receive time stored in the event this upload stored (None for a duplicate): what the
    # tap is judged by, here and in the projection alike.
    received_at: datetime | None = None
    # A conflict's content hash and that of the version stored first under its tap ID.
    content_hash: str | None = None
    stored_content_hash: str | None = None


@dataclass(frozen=True)
class PhoneTapReceipt:
    tap_id: str
    status: str  # "accepted" | "duplicate"
    position: int | None  # the stored event's notification ID (None for a duplicate)
    site_id: str
    direction: str
    flags: tuple[str, ...]  # the phone's own: printed_code, outside_area, no_position
    technician_id: str = ""
    reader_id: str = ""
    reader_time: datetime | None = None
    received_at: datetime | None = None


class _Resends:
    """Sorts the taps whose ID was stored before (or earlier in the batch) into duplicates and
    conflicts, inside the insert's transaction (`SkipsDuplicates.insert_new_events`)."""

    def __init__(
        self, recorded: RecordedTaps, observations: Sequence[TapObservation],
        firsts: dict[str, UUID],
    ) -> None:
        self.recorded, self.observations, self.firsts = recorded, observations, firsts
        # per resent observation (by index): (conflict aggregate ID, stored content hash);
        # no conflict aggregate ID for an exact resend
        self.resent: dict[int, tuple[UUID | None, str]] = {}

    def check(
        self, inserted: Mapping[UUID, int], first_states: StoredStates
    ) -> list[StoredEvent]:
        if len(inserted) == len(self.firsts) == len(self.observations):
            return []  # the hot path: every tap is new
        collided = [aid for aid in self.firsts.values() if aid not in inserted]
        stored_hashes = {aid: self.recorded.stored_content_hash(state)
                         for aid, state in first_states(collided).items()}
        batch_firsts: dict[str, TapObservation] = {}
        conflicts: dict[UUID, StoredEvent] = {}
        for index, observation in enumerate(self.observations):
            aid = self.firsts[observation.tap_id]
            if aid in inserted:
                if observation.tap_id not in batch_firsts:
                    batch_firsts[observation.tap_id] = observation  # accepted now
                    continue
                stored_hash = batch_firsts[observation.tap_id].content_hash
            else:
                stored_hash = stored_hashes[aid]
            digest = observation.content_hash
            if digest == stored_hash:
                self.resent[index] = (None, stored_hash)
                continue
            conflict_id = conflict_aggregate_id(observation.tap_id, digest)
            if conflict_id not in conflicts:
                conflicts[conflict_id] = self.recorded.conflicting_stored_event(
                    observation, stored_hash)
            self.resent[index] = (conflict_id, stored_hash)
        return list(conflicts.values())

    def receipts(self, inserted: dict[UUID, int]) -> list[TapReceipt]:
        received_at = self.recorded.received_at
        receipts: list[TapReceipt] = []
        for index, observation in enumerate(self.observations):
            tap_id = str(observation.tap_id)
            if index in self.resent:
                conflict_id, stored_hash = self.resent[index]
                # pop: the same conflicting version again (now or later) is a duplicate
                position = None if conflict_id is None else inserted.pop(conflict_id, None)
                receipts.append(
                    TapReceipt(tap_id, "duplicate", None) if position is None else
                    TapReceipt(tap_id, "conflict", position, received_at,
                               observation.content_hash, stored_hash))
                continue
            position = inserted.pop(self.firsts[tap_id], None)
            receipts.append(TapReceipt(tap_id, "accepted", position, received_at)
                            if position is not None else TapReceipt(tap_id, "duplicate", None))
        return receipts


def library_env(settings: Settings, in_memory: bool = False) -> dict[str, str]:
    """Translate the ledger's settings into the eventsourcing library's environment."""
    env = {"CREATE_TABLE": "n"}  # tables come from migrations
    if in_memory:
        env |= {"PERSISTENCE_MODULE": "ledger.storage.memory:LedgerPOPOFactory"}
    elif settings.is_postgres:
        from ledger.settings import postgres_params

        params = postgres_params(settings.database_url)
        env |= {
            "PERSISTENCE_MODULE": "ledger.storage.postgres:LedgerPostgresFactory",
            "POSTGRES_DBNAME": params["dbname"],
            "POSTGRES_HOST": params["host"],
            "POSTGRES_PORT": params["port"],
            "POSTGRES_USER": params["user"],
            "POSTGRES_PASSWORD": params["password"],
            "POSTGRES_LOCK_TIMEOUT": "10",
        }
    else:
        env |= {
            "PERSISTENCE_MODULE": "ledger.storage.sqlite:LedgerSQLiteFactory",
            "SQLITE_DBNAME": settings.sqlite_path,
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    if settings.cipher_key:
        env |= {"CIPHER_TOPIC": "eventsourcing.cipher:AESCipher", "CIPHER_KEY": settings.cipher_key}
    return env


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise NotPermitted("actor", "actor.role", f"{actor.role.value} may not do this ({allowed})")


class Ledger(WorkingTimeCases, Application[UUID]):
    """就業履歴の台帳: registrations, taps, manual entries and corrections, as immutable events."""

    name = "Ledger"

    def __init__(self, settings: Settings | None = None, *, in_memory: bool = False) -> None:
        """`in_memory`: the events are kept in this object only (the library's POPO recorder),
        whatever the settings' database; the use cases run the same."""
        self.settings = settings or get_settings()
        super().__init__(env=library_env(self.settings, in_memory))

    def construct_transcoder(self) -> Transcoder:
        return ledger_transcoder(ENUMS)

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=TapMapper)

    # -- plumbing -------------------------------------------------------------------------------
    def _load(self, kind: type[A], aggregate_id: UUID, field: str, value: str) -> A:
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise UnknownReference(field, f"{field}.exists", f"{value} is not registered") from None
        if not isinstance(aggregate, kind):
            raise UnknownReference(field, f"{field}.exists", f"{value} is not registered")
        return aggregate

    def _create(self, aggregate: LedgerAggregate, field: str, value: str) -> UUID:
        try:
            self.save(aggregate)
        except RecordConflictError:
            raise AlreadyExists(
                field, f"{field}.unique", f"{value} is registered already"
            ) from None
        return aggregate.id

    def _update(
        self,
        kind: type[A],
        aggregate_id: UUID,
        field: str,
        value: str,
        command: Callable[[A], object],
    ) -> A:
        """Load, run the command, save — again from a fresh load if someone saved meanwhile."""
        for attempt in range(CONFLICT_RETRIES):
            aggregate = self._load(kind, aggregate_id, field, value)
            command(aggregate)
            try:
                self.save(aggregate)
            except RecordConflictError:
                if attempt == CONFLICT_RETRIES - 1:
                    raise InvalidState(
                        field, "concurrent_update", "changed by someone else; try again"
                    ) from None
                continue
            return aggregate
        raise AssertionError("unreachable")

    def worker(self, technician_id: str) -> Worker:
        technician_id = TechnicianId(technician_id)
        return self._load(
            Worker, worker_aggregate_id(technician_id), "technician_id", technician_id
        )

    def site(self, site_id: str) -> Site:
        site_id = SiteId(site_id)
        return self._load(Site, site_aggregate_id(site_id), "site_id", site_id)

    def business(self, business_id: str) -> Business:
        business_id = BusinessId(business_id)
        return self._load(Business, business_aggregate_id(business_id), "business_id", business_id)

    def reader(self, reader_id: str) -> Reader:
        reader_id = ReaderId(reader_id)
        return self._load(Reader, reader_aggregate_id(reader_id), "reader_id", reader_id)

    def card(self, card_id: str) -> Card:
        card_id = CardId(card_id)
        return self._load(Card, card_aggregate_id(card_id), "card_id", card_id)

    def _worker_admin(self, actor: Actor, worker: Worker, on: date | None = None) -> None:
        """Admin, or an employer of the worker (on a date, or currently)."""
        if actor.role is Role.ADMIN:
            return
        employers = worker.employers_on(on or clock.work_date_of(clock.now()))
        if actor.role is Role.EMPLOYER and actor.id in employers:
            return
        raise NotPermitted("actor", "worker.admin", "only the worker's employer may do this")

    # -- businesses and workers ---------------------------------------------------------------
    def register_business(self, business_id: str, name: str, actor: Actor) -> UUID:
        require_role(actor, Role.ADMIN)
        return self._create(Business.register(business_id, name, actor), "business_id", business_id)

    def enroll_business_in_kentaikyo(
        self, business_id: str, contract_number: str, since: date, actor: Actor
    ) -> None:
        require_role(actor, Role.ADMIN, Role.EMPLOYER, Role.PRIME_CONTRACTOR)
        if actor.role is not Role.ADMIN and actor.id != business_id:
            raise NotPermitted("actor", "business.self", "a business enrolls itself only")
        self._update(
            Business,
            business_aggregate_id(BusinessId(business_id)),
            "business_id",
            business_id,
            lambda b: b.enroll_in_kentaikyo(contract_number, since, actor),
        )

    def register_worker(
        self, technician_id: str, name: str, actor: Actor, since: date | None = None
    ) -> Registration:
        """Register a worker. A business registering a new worker (代行申請) is their employer
        from `since` (default today); one registering a worker who is registered already makes an
        employment request instead, which counts once the worker confirms it."""
        require_role(actor, Role.ADMIN, Role.EMPLOYER)
        worker = Worker.register(technician_id, name, actor)
        if actor.role is Role.ADMIN:
            self._create(worker, "technician_id", technician_id)
            return Registration.REGISTERED
        self.business(actor.id)
        since = since or clock.work_date_of(clock.now())
        worker.join_employer(actor.id, since, True, actor)
        try:
            self.save(worker)
            return Registration.REGISTERED
        except RecordConflictError:
            pass
        try:
            self._update_worker(
                technician_id, lambda w: w.request_employment(actor.id, since, False, actor)
            )
        except InvalidState as error:
            if error.rule != "employment.overlap":
                raise
            raise AlreadyExists(
                "technician_id", "technician_id.unique", f"{worker.technician_id} is registered "
                "already"
            ) from None
        return Registration.EMPLOYMENT_REQUESTED

    def join_employer(
        self, technician_id: str, business_id: str, since: date, primary: bool, actor: Actor
    ) -> Registration:
        """所属事業者の関連付け. Admin records an employment; a business claims one for itself,
        and the claim counts once the worker confirms it (`confirm_employment`)."""
        require_role(actor, Role.ADMIN, Role.EMPLOYER)
        if actor.role is Role.EMPLOYER and actor.id != business_id:
            raise NotPermitted("actor", "employment.self", "an employer adds its own workers only")
        self.business(business_id)
        if actor.role is Role.EMPLOYER:
            self._update_worker(
                technician_id, lambda w: w.request_employment(business_id, since, primary, actor)
            )
            return Registration.EMPLOYMENT_REQUESTED
        self._update_worker(
            technician_id, lambda w: w.join_employer(business_id, since, primary, actor)
        )
        return Registration.REGISTERED

    def confirm_employment(self, technician_id: str, business_id: str, actor: Actor) -> None:
        """The worker consents to a business's employment request."""

        def command(worker: Worker) -> None:
            self._require_consent(actor, worker, business_id)
            worker.confirm_employment(business_id, actor)

        self._update_worker(technician_id, command)

    def decline_employment(self, technician_id: str, business_id: str, actor: Actor) -> None:
        def command(worker: Worker) -> None:
            self._require_consent(actor, worker, business_id)
            worker.decline_employment(business_id, actor)

        self._update_worker(technician_id, command)

    @staticmethod
    def _require_consent(actor: Actor, worker: Worker, claimant: str | None = None) -> None:
        """Who consents for the worker: the worker, admin (the registration office), or a
        business that employs the worker today — so a worker without a key of their own confirms
        through their employer's office. A claimant never confirms its own claim."""
        if actor.role is Role.ADMIN:
            return
        if actor.role is Role.WORKER and actor.id == worker.technician_id:
            return
        today = clock.work_date_of(clock.now())
        if (
            actor.role is Role.EMPLOYER
            and actor.id != claimant
            and actor.id in worker.employers_on(today)
        ):
            return
        raise NotPermitted(
            "actor", "worker.consent", "only the worker, their employer or admin may confirm"
        )

    def leave_employer(
        self, technician_id: str, business_id: str, until: date, actor: Actor
    ) -> None:
        require_role(actor, Role.ADMIN, Role.EMPLOYER)
        if actor.role is Role.EMPLOYER and actor.id != business_id:
            raise NotPermitted("actor", "employment.self", "an employer ends its own workers only")
        self._update_worker(technician_id, lambda w: w.leave_employer(business_id, until, actor))

    def enroll_worker_in_kentaikyo(
        self, technician_id: str, member_number: str, since: date, actor: Actor
    ) -> None:
        def command(worker: Worker) -> None:
            if not (actor.role is Role.WORKER and actor.id == worker.technician_id):
                self._worker_admin(actor, worker)
            worker.enroll_in_kentaikyo(member_number, since, actor)

        self._update_worker(technician_id, command)

    def add_qualification(
        self, technician_id: str, code: str, acquired_on: date, actor: Actor
    ) -> None:
        def command(worker: Worker) -> None:
            if not (actor.role is Role.WORKER and actor.id == worker.technician_id):
                self._worker_admin(actor, worker)
            worker.add_qualification(code, acquired_on, actor)

        self._update_worker(technician_id, command)

    def complete_foreman_training(
        self, technician_id: str, completed_on: date, actor: Actor
    ) -> None:
        def command(worker: Worker) -> None:
            self._worker_admin(actor, worker)
            worker.complete_foreman_training(completed_on, actor)

        self._update_worker(technician_id, command)

    def confirm_social_insurance(
        self,
        technician_id: str,
        health: str,
        pension: str,
        employment: str,
        as_of: date,
        actor: Actor,
    ) -> None:
        def command(worker: Worker) -> None:
            self._worker_admin(actor, worker)
            worker.confirm_social_insurance(health, pension, employment, as_of, actor)

        self._update_worker(technician_id, command)

    def certify_career(self, technician_id: str, claim: CertificateClaim, actor: Actor) -> None:
        """経歴証明 by an employer, acting as itself, for a period it employed the worker."""
        self.require_certifier(actor, claim.certifier_business_id)
        certified_on = clock.work_date_of(clock.now())
        self._update_worker(technician_id, lambda w: w.certify_career(claim, certified_on, actor))

    def propose_career_certificate(
        self,
        technician_id: str,
        certificate_id: str,
        claim: CertificateClaim,
        basis: str,
        actor: Actor,
    ) -> None:
        """経歴証明 by the prime or an upper subcontractor: counts once the worker confirms it.
        The certificate's form is checked before the worker is loaded."""
        self.require_certifier(actor, claim.certifier_business_id)
        certified_on = clock.work_date_of(clock.now())
        proposal_basis(claim, certified_on, basis)
        self._update_worker(
            technician_id,
            lambda w: w.propose_career_certificate(
                certificate_id, claim, certified_on, basis, actor
            ),
        )

    def confirm_career_certificate(
        self, technician_id: str, certificate_id: str, actor: Actor
    ) -> None:
        """The worker consents to a proposed certificate: it counts from now."""
        self._answer_certificate(
            technician_id, certificate_id, actor, Worker.confirm_career_certificate
        )

    def decline_career_certificate(
        self, technician_id: str, certificate_id: str, actor: Actor
    ) -> None:
        """The worker refuses a proposed certificate: it never counts."""
        self._answer_certificate(
            technician_id, certificate_id, actor, Worker.decline_career_certificate
        )

    def _answer_certificate(
        self,
        technician_id: str,
        certificate_id: str,
        actor: Actor,
        answer: Callable[[Worker, str, Actor], None],
    ) -> None:
        """Either answer is the worker's to give, and never the certifier's own."""

        def command(worker: Worker) -> None:
            proposal = worker.certificate_proposals.get(certificate_id, {})
            self._require_consent(actor, worker, proposal.get("certifier_business_id"))
            answer(worker, certificate_id, actor)

        self._update_worker(technician_id, command)

    def require_certifier(self, actor: Actor, certifier_business_id: str) -> None:
        """A registered business certifying in its own name (admin for any): told before the
        worker is looked at, so it does not depend on who is registered."""
        require_role(actor, Role.ADMIN, Role.EMPLOYER, Role.PRIME_CONTRACTOR)
        if actor.role is not Role.ADMIN and actor.id != certifier_business_id:
            raise NotPermitted(
                "actor", "career_certificate.certifier", "a business certifies in its own name only"
            )
        self.business(certifier_business_id)

    def _update_worker(self, technician_id: str, command: Callable[[Worker], object]) -> Worker:
        technician_id = TechnicianId(technician_id)
        return self._update(
            Worker, worker_aggregate_id(technician_id), "technician_id", technician_id, command
        )

    # -- sites, readers, cards ---------------------------------------------------------------
    def open_site(
        self,
        site_id: str,
        name: str,
        prime_business_id: str,
        kentaikyo_method: str,
        opened_on: date,
        actor: Actor,
    ) -> UUID:
        require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR)
        site = Site.open(site_id, name, prime_business_id, kentaikyo_method, opened_on, actor)
        self.business(prime_business_id)
        try:
            return self._create(site, "site_id", site_id)
        except AlreadyExists:
            existing = self.site(site_id)
            if not relates_to_site(actor, existing) or (
                (existing.name, existing.prime_business_id, existing.kentaikyo_method,
                 existing.opened_on)
                == (site.name, site.prime_business_id, site.kentaikyo_method, site.opened_on)
            ):
                # Answered as a fresh opening: a retry of the same opening, or a site that
                # the caller has no relation with (whose existence it must not learn).
                return existing.id
            raise

    def add_subcontract(
        self, site_id: str, business_id: str, parent_business_id: str, actor: Actor
    ) -> None:
        require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR, Role.EMPLOYER)
        self.business(business_id)
        self._update_site(
            site_id, lambda s: s.add_subcontract(business_id, parent_business_id, actor)
        )

    def set_roster_entry(
        self,
        site_id: str,
        technician_id: str,
        employer_business_id: str,
        trade: str,
        position: str,
        since: date,
        actor: Actor,
    ) -> None:
        require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR, Role.EMPLOYER)
        # The named employer must employ the worker during the entry: an employment still open
        # on `since` or starting after it (a roster entry may be put up before the hiring date).
        worker = self.worker(technician_id)
        if not worker.employs(BusinessId(employer_business_id), require_date(since, "since")):
            raise InvalidState(
                "employer_business_id",
                "roster.employment",
                f"{employer_business_id} does not employ the worker from {since}",
            )
        self._update_site(
            site_id,
            lambda s: s.set_roster_entry(
                technician_id, employer_business_id, trade, position, since, actor
            ),
        )

    def close_site(self, site_id: str, closed_on: date, actor: Actor) -> None:
        def command(site: Site) -> None:
            self._require_prime(actor, site)
            site.close(closed_on, actor)

        self._update_site(site_id, command)

    def assign_unknown_card(
        self,
        site_id: str,
        card_id: str,
        tap_id: str,
        technician_id: str,
        reason: str,
        actor: Actor,
    ) -> None:
        """Resolve an unknown card seen at a site: its flagged taps there, up to now, were this
        worker's on the roster (`Site.assign_unknown_card`). The decision names one of those
        taps, which must be stored, of this card, at one of this site's readers. A card in the
        registry is not unknown: its taps are its holder's, and no decision overrides that."""
        require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR, Role.SITE_MANAGER)
        card_id = CardId(card_id)
        tap_id = TapId(tap_id)

        def command(site: Site) -> None:
            site.check_staff(actor)
            if self._exists(Card, card_aggregate_id(card_id)):
                raise InvalidState(
                    "card_id", "unknown_card.issued", "the card is issued; its taps are not unknown"
                )
            self._require_unknown_tap(site, card_id, tap_id)
            site.assign_unknown_card(card_id, tap_id, technician_id, reason, actor, clock.now())

        self._update_site(site_id, command)

    def resolve_missing_exit(
        self,
        site_id: str,
        technician_id: str,
        work_date: date,
        exit_at: datetime | None,
        reason: str,
        actor: Actor,
    ) -> None:
        """A past day's entry no exit closed: the worker left at ``exit_at`` as the site's
        staff state it, or at a time unknown (None) (`Site.resolve_missing_exit`)."""
        require_role(actor, Role.ADMIN, Role.PRIME_CONTRACTOR, Role.SITE_MANAGER)
        self._update_site(
            site_id,
            lambda site: site.resolve_missing_exit(
                technician_id, work_date, exit_at, reason, actor, clock.now()
            ),
        )

    def _require_unknown_tap(self, site: Site, card_id: str, tap_id: str) -> None:
        """The tap is stored, sent with this card and no technician, by a reader of the site.
        Every other case is answered alike, so the answer tells nothing of other sites' taps."""
        try:
            tap: object = self.repository.get(tap_aggregate_id(tap_id))
        except AggregateNotFoundError:
            tap = None
        if isinstance(tap, Tap) and tap.card_id == card_id and tap.technician_id is None:
            reader_site = None
            with contextlib.suppress(UnknownReference):
                reader_site = self.reader(tap.reader_id).site_id
            if reader_site == site.site_id:
                return
        raise InvalidState(
            "tap_id", "unknown_card.tap", f"{tap_id} is not a tap of {card_id} at this site"
        )

    def _exists(self, kind: type[LedgerAggregate], aggregate_id: UUID) -> bool:
        try:
            return isinstance(self.repository.get(aggregate_id), kind)
        except AggregateNotFoundError:
            return False

    def _update_site(self, site_id: str, command: Callable[[Site], None]) -> Site:
        site_id = SiteId(site_id)
        return self._update(Site, site_aggregate_id(site_id), "site_id", site_id, command)

    @staticmethod
    def _require_prime(actor: Actor, site: Site, *staff: Role) -> None:
        """The site's prime, or one of its `staff` roles acting for it (a site manager)."""
        if actor.role is Role.ADMIN:
            return
        if (actor.role is Role.PRIME_CONTRACTOR or actor.role in staff) and (
                actor.id == site.prime_business_id):
            return
        raise NotPermitted("actor", "site.prime", "only the site's prime contractor may do this")

    def register_reader(
        self, reader_id: str, site_id: str, direction_mode: str, actor: Actor
    ) -> UUID:
        reader = Reader.register(reader_id, site_id, direction_mode, actor)
        self._require_prime(actor, self.site(site_id), Role.SITE_MANAGER)
        try:
            return self._create(reader, "reader_id", reader_id)
        except AlreadyExists:
            existing = self.reader(reader_id)
            if not relates_to_site(actor, self.site(existing.site_id)) or (
                not existing.retired
                and (existing.site_id, existing.direction_mode)
                == (reader.site_id, reader.direction_mode)
            ):
                # as for a site: a retry, or a reader of a site the caller has no relation with
                return existing.id
            raise

    def retire_reader(self, reader_id: str, reason: str, actor: Actor) -> None:
        def command(reader: Reader) -> None:
            self._require_prime(actor, self.site(reader.site_id), Role.SITE_MANAGER)
            reader.retire(reason, actor)

        reader_id = ReaderId(reader_id)
        self._update(Reader, reader_aggregate_id(reader_id), "reader_id", reader_id, command)

    def issue_card(self, card_id: str, technician_id: str, actor: Actor) -> UUID:
        require_role(actor, Role.ADMIN)
        card = Card.issue(card_id, technician_id, actor)
        self.worker(technician_id)
        try:
            return self._create(card, "card_id", card_id)
        except AlreadyExists:
            # Only admin issues cards and admin sees every card: no oracle to close, but a retry
            # of the same issue answers as the first one did.
            existing = self.card(card_id)
            if not existing.revoked and existing.technician_id == card.technician_id:
                return existing.id
            raise

    def revoke_card(self, card_id: str, reason: str, actor: Actor) -> None:
        require_role(actor, Role.ADMIN)
        card_id = CardId(card_id)
        self._update(
            Card, card_aggregate_id(card_id), "card_id", card_id, lambda c: c.revoke(reason, actor)
        )

    # -- taps (observations) -----------------------------------------------------------------
    def record_taps(self, observations: Sequence[TapObservation], actor: Actor) -> list[TapReceipt]:
        """Store a batch of taps in one transaction, without reading any state first.

        A tap already stored (or repeated within the batch) with the same content is reported
        as a duplicate; with other content it is stored as a ``Tap.ConflictingObservation`` and
        reported as a conflict, so nothing a reader sends is dropped. The stored content is read
        only for the tap IDs that collided, in the insert's transaction. The rest of the batch
        is stored all the same. Unknown cards and readers are not refused here: they are
        flagged by the one rule the answer and the read side share (`projections.tap_flags`).
        """
        require_role(actor, Role.READER, Role.ADMIN, Role.SYSTEM)
        if actor.role is Role.READER:
            for observation in observations:
                if observation.reader_id != actor.id:
                    raise NotPermitted(
                        "reader_id", "tap.reader", "a reader appends its own taps only"
                    )
        recorded = RecordedTaps(self.mapper, clock.now(), actor)
        firsts: dict[str, UUID] = {}  # tap ID → aggregate ID, first occurrence only
        stored = []
        for observation in observations:
            if observation.tap_id not in firsts:
                event = recorded.stored_event(observation)
                firsts[observation.tap_id] = cast(UUID, event.originator_id)
                stored.append(event)
        resends = _Resends(recorded, observations, firsts)
        inserted = cast(SkipsDuplicates, self.recorder).insert_new_events(stored, resends.check)
        return resends.receipts(inserted)

    # -- manual entries and corrections --------------------------------------------------------
    def request_manual_entry(
        self,
        technician_id: str,
        site_id: str,
        work_date: date,
        employer_business_id: str,
        trade: str,
        position: str,
        work_content: str,
        actor: Actor,
        entry_at: datetime | None = None,
        exit_at: datetime | None = None,
        note: str = "",
    ) -> UUID:
        entry = ManualEntry.request(
            self.worker(technician_id),
            self.site(site_id),
            work_date,
            employer_business_id,
            trade,
            position,
            work_content,
            entry_at,
            exit_at,
            note,
            actor,
            clock.now(),
        )
        self.save(entry)
        return entry.id

    def request_correction(
        self,
        technician_id: str,
        site_id: str,
        work_date: date,
        employer_business_id: str,
        changes: dict[str, Any],
        reason: str,
        actor: Actor,
    ) -> UUID:
        correction = Correction.request(
            self.worker(technician_id),
            self.site(site_id),
            work_date,
            employer_business_id,
            changes,
            reason,
            actor,
            clock.now(),
        )
        self.save(correction)
        return correction.id

    def approve(self, request_id: UUID, actor: Actor) -> None:
        """承認 of a manual entry or a correction by the site's prime contractor."""
        self._decide(request_id, lambda r: r.approve(actor, clock.now()))

    def reject(self, request_id: UUID, reason: str, actor: Actor) -> None:
        """否認, with the reason."""
        self._decide(request_id, lambda r: r.reject(reason, actor, clock.now()))

    def expire(self, request_id: UUID, actor: Actor) -> None:
        require_role(actor, Role.SYSTEM, Role.ADMIN)
        self._decide(request_id, lambda r: r.expire(actor, clock.now()))

    def request(self, request_id: UUID) -> ApprovableRequest:
        return self._load(ApprovableRequest, request_id, "request_id", str(request_id))

    def _decide(self, request_id: UUID, command: Callable[[ApprovableRequest], None]) -> None:
        self._update(ApprovableRequest, request_id, "request_id", str(request_id), command)

    # -- the log -----------------------------------------------------------------------------
    def log_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def iter_log(
        self, after: int = 0, batch_size: int = 1000, stop: int | None = None
    ) -> Iterator[tuple[int, DomainEventProtocol[UUID]]]:
        """Every stored event after a position, in the order it was recorded."""
        while True:
            notifications = self.recorder.select_notifications(
                start=after, limit=batch_size, stop=stop, inclusive_of_start=False
            )
            for notification in notifications:
                yield notification.id, self.mapper.to_domain_event(notification)
            if len(notifications) < batch_size:
                return
            after = notifications[-1].id

    # -- 締め: what the nightly jobs decide ----------------------------------------------------
    # The jobs gather facts from the read models and record their results here, like every
    # other writer. Each result's ID is derived from what it is about (a site-day, a month, a
    # prime, a day), so a second run collides with the first instead of issuing twice.
    @cached_property
    def lines(self) -> LineStore:
        """The content-addressed lines beside the log, which settlement and seal events name."""
        return LineStore(self.recorder)

    def lines_of(self, originator_id: UUID, line_set: LineSet) -> Iterator[list[Any]]:
        """The lines an aggregate's event names. An event stored before lines lived beside the
        log (a version-1 settlement or seal) carried them itself: the first read stores them
        from that event, so an upgraded ledger needs no migration to read them."""
        if not self.lines.has(line_set):
            self._store_embedded_lines(originator_id)
        return self.lines.lines(line_set)

    def _store_embedded_lines(self, originator_id: UUID) -> None:
        # The stored state as written, before upcasting (which keeps only the lines' names);
        # content-addressed, so two readers storing them at once store them once.
        for stored in self.recorder.select_events(originator_id, lte=1):
            embedded = getattr(resolve_topic(stored.topic), "embedded_lines", None)
            if embedded is None:
                continue
            state = stored.state
            if self.mapper.cipher:
                state = self.mapper.cipher.decrypt(state)
            if self.mapper.compressor:
                state = self.mapper.compressor.decompress(state)
            for lines in embedded(self.mapper.transcoder.decode(state)):
                self.lines.put(lines)

    def store_lines(self, lines: Iterable[Sequence[Any]], actor: Actor) -> LineSet:
        """Store lines (streamed) that a settlement will name; storing them twice adds nothing."""
        check_job_actor(actor)
        return self.lines.put(lines)

    def _save_small(self, *aggregates: LedgerAggregate) -> None:
        """Save, refusing an event over MAX_EVENT_BYTES: for the events whose lists live in the
        lines (settlements, seals), so their size does not follow the month's or day's."""
        for aggregate in aggregates:
            for pending in aggregate.pending_events:
                size = len(self.mapper.to_stored_event(pending).state)
                if size > MAX_EVENT_BYTES:
                    raise InvalidValue("event", "event.size", f"{type(pending).__qualname__} "
                                       f"is {size:,} bytes, over {MAX_EVENT_BYTES:,}")
        self.save(*aggregates)

    def close_day(
        self, site_id: str, work_date: date, missing_exits: list[dict[str, Any]],
        unknown_card_taps: list[dict[str, Any]], silent_readers: list[str],
        as_of_position: int, actor: Actor,
    ) -> DayClose | None:
        """日締め of one site-day; None if it was closed already (the first close stands)."""
        closed = DayClose.close(site_id, work_date, missing_exits, unknown_card_taps,
                                silent_readers, as_of_position, actor, clock.now())
        try:
            # Not held to MAX_EVENT_BYTES: its findings are listed in the event (about 150
            # bytes each), so it grows with the site's workers that day; refusing it would
            # leave the day unclosed.
            self.save(closed)
        except RecordConflictError:
            return None
        return closed

    def kentaikyo_settlement(self, month: str) -> KentaikyoSettlement | None:
        try:
            found: object = self.repository.get(settlement_id(month))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, KentaikyoSettlement) else None

    def issue_kentaikyo_settlement(
        self, tally: SettlementTally, days: LineSet, adjustments: LineSet, parties: LineSet,
        files: dict[str, str], as_of_position: int, actor: Actor,
    ) -> tuple[KentaikyoSettlement, bool]:
        """Issue a month's settlement over lines stored already; if someone issued the month
        meanwhile, theirs stands. Returns the settlement and whether this call issued it."""
        for name, line_set in (("days", days), ("adjustments", adjustments),
                               ("parties", parties)):
            if not self.lines.has(line_set):
                raise InvalidState(name, "lines.missing", f"{line_set.sha256} is not stored")
        settlement = KentaikyoSettlement.issue(tally, days, adjustments, parties, files,
                                               as_of_position, actor, clock.now())
        try:
            self._save_small(settlement)
        except RecordConflictError:
            theirs = self.kentaikyo_settlement(tally.month)
            assert theirs is not None
            return theirs, False
        return settlement, True

    def site_fee_account(self, prime_business_id: str) -> SiteFeeAccount | None:
        try:
            found: object = self.repository.get(site_fee_account_id(prime_business_id))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, SiteFeeAccount) else None

    def bill_site_fees(
        self, month: str, usage: Mapping[str, Mapping[UsageKey, int]], carrying: Iterable[str],
        actor: Actor,
    ) -> tuple[list[SiteFeeAccount], int]:
        """Bill `month` to every prime with usage or an amount carried over, in one transaction
        (the month is billed for all primes or none). Returns the accounts billed and how many
        had billed `month` already."""
        check_job_actor(actor)
        now = clock.now()
        accounts, already = [], 0
        for prime in sorted(set(usage) | set(carrying)):
            account = self.site_fee_account(prime) or SiteFeeAccount.open(prime, month, actor, now)
            if account.last_month is not None and months_between(account.last_month, month) <= 0:
                already += 1
                continue
            mine = usage.get(prime, {})
            if not account.has_anything_due(month, mine):
                continue  # only records already billed (the look-back window), and no carry
            account.bill_month(month, mine, actor, now)
            accounts.append(account)
        if accounts:
            # Not held to MAX_EVENT_BYTES: a bill lists its sites (about 45 bytes a site and
            # work month), so it grows with the prime's sites, not with the month's records.
            self.save(*accounts)
        return accounts, already

    def seal_days(self, seals: Sequence[DailySeal], new_key: SealKeys | None = None) -> int:
        """Record a run of daily seals in one transaction, with the statement of the key that
        signed them if it is the ledger's first: the chain grows by whole days or not at all.
        Returns how many were recorded (0 if another run sealed them first)."""
        if not seals:
            return 0
        try:
            self._save_small(*seals, *([] if new_key is None else [new_key]))
        except RecordConflictError:
            return 0
        return len(seals)

    def seal_keys(self) -> SealKeys | None:
        try:
            found: object = self.repository.get(seal_keys_id())
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, SealKeys) else None

    def introduce_seal_key(
        self, statement: KeyStatement, actor: Actor, save: bool = True
    ) -> SealKeys:
        """Record a seal key's statement: the first key's, or a rotation its predecessor signed.
        Only the public half and the signatures enter the log. With `save` false the caller
        saves it with what it signs (the first seals)."""
        keys = self.seal_keys()
        if keys is None:
            keys = SealKeys.start(statement, actor)
        else:
            keys.rotate(statement, actor)
        if save:
            self.save(keys)
        return keys
    # -- 入場時の確認: what the gate checks -----------------------------------------------------
    def record_social_insurance(
        self, technician_id: str, record: InsuranceRecord, actor: Actor
    ) -> None:
        """社会保険加入状況 as the worker's employer (or admin) confirmed it on a date."""
        def command(worker: Worker) -> None:
            self._worker_admin(actor, worker)
            worker.record_social_insurance(record, actor)

        self._update_worker(technician_id, command)

    def set_qualification_expiry(
        self, technician_id: str, code: str, expires_on: date, actor: Actor
    ) -> None:
        def command(worker: Worker) -> None:
            if not (actor.role is Role.WORKER and actor.id == worker.technician_id):
                self._worker_admin(actor, worker)
            worker.set_qualification_expiry(code, expires_on, actor)

        self._update_worker(technician_id, command)

    def require_entry_checks(self, site_id: str, actor: Actor) -> None:
        def command(site: Site) -> None:
            self._require_prime(actor, site, Role.SITE_MANAGER)
            site.require_entry_checks(actor)

        self._update_site(site_id, command)

    def require_qualification(
        self, site_id: str, qualification: str, trade: str, actor: Actor, work_area: str = ""
    ) -> None:
        def command(site: Site) -> None:
            self._require_prime(actor, site, Role.SITE_MANAGER)
            site.require_qualification(qualification, trade, actor, work_area)

        self._update_site(site_id, command)

    def withdraw_qualification(
        self, site_id: str, qualification: str, trade: str, actor: Actor, work_area: str = ""
    ) -> None:
        def command(site: Site) -> None:
            self._require_prime(actor, site, Role.SITE_MANAGER)
            site.withdraw_qualification(qualification, trade, actor, work_area)

        self._update_site(site_id, command)

    def assign_work_area(
        self, site_id: str, reader_id: str, work_area: str, actor: Actor
    ) -> None:
        """作業区域: the reader's gate leads into `work_area` (a reader of this site only)."""
        reader = self.reader(reader_id)

        def command(site: Site) -> None:
            self._require_prime(actor, site, Role.SITE_MANAGER)
            if reader.site_id != site.site_id:
                raise UnknownReference("reader_id", "reader_id.exists",
                                       f"{reader_id} is not registered at this site")
            site.assign_work_area(reader.reader_id, work_area, actor)

        self._update_site(site_id, command)

    def declare_training_institution(self, site_id: str, actor: Actor) -> None:
        """CCUS登録教育訓練機関: admin only, on a site whose prime is 振興基金."""
        require_role(actor, Role.ADMIN)
        fund = self.settings.promotion_fund_business_id

        def command(site: Site) -> None:
            if fund is None or site.prime_business_id != fund:
                raise InvalidState("prime_business_id", "training_institution.prime",
                                   "a training institution's prime is 振興基金 "
                                   "(LEDGER_PROMOTION_FUND_BUSINESS_ID)")
            site.declare_training_institution(actor)

        self._update_site(site_id, command)

    # -- 建退共の口座: points of a contracting employer -----------------------------------------
    def kentaikyo_account(self, business_id: str) -> KentaikyoAccount | None:
        business_id = BusinessId(business_id)
        if not self._exists(KentaikyoAccount, account_aggregate_id(business_id)):
            return None
        return self._load(KentaikyoAccount, account_aggregate_id(business_id), "business_id",
                          business_id)

    def _update_account(
        self, business_id: str, actor: Actor, command: Callable[[KentaikyoAccount], object]
    ) -> KentaikyoAccount:
        """The contracting employer acting as itself, or admin; the account opens with its
        first entry."""
        business_id = BusinessId(business_id)
        if actor.role is not Role.ADMIN and not (
                actor.role in (Role.EMPLOYER, Role.PRIME_CONTRACTOR)
                and actor.id == business_id):
            raise NotPermitted("actor", "kentaikyo_account.owner",
                               "only the contracting employer keeps its points")
        if self.business(business_id).kentaikyo_contract_number is None:
            raise InvalidState("business_id", "kentaikyo_account.contract",
                               "the business is not a contracting employer (共済契約者)")
        for attempt in range(CONFLICT_RETRIES):
            account = self.kentaikyo_account(business_id) or KentaikyoAccount.open(
                business_id, actor)
            command(account)
            try:
                self.save(account)
            except RecordConflictError:
                if attempt == CONFLICT_RETRIES - 1:
                    raise InvalidState("business_id", "concurrent_update",
                                       "changed by someone else; try again") from None
                continue
            return account
        raise AssertionError("unreachable")

    def purchase_points(self, business_id: str, purchase_id: str, purchased_on: date,
                        points: int, ccus_linked: bool, actor: Actor) -> None:
        self._update_account(business_id, actor, lambda a: a.purchase(
            purchase_id, purchased_on, points, ccus_linked, actor))

    def use_points(self, business_id: str, reference: str, used_on: date, points: int,
                   actor: Actor, days: tuple[ReportedDay, ...] = ()) -> None:
        """Apply a report's points (and the worker-days it paid for); a shortfall
        (`PointsShortfall`) uses nothing."""
        self._update_account(business_id, actor, lambda a: a.use(
            reference, used_on, points, actor, days))

    def credit_rebates(self, business_id: str, credited_on: date, actor: Actor) -> int:
        """Credit every rebate due on `credited_on` (admin: the credits are the fund's)."""
        require_role(actor, Role.ADMIN)
        credited = 0

        def command(account: KentaikyoAccount) -> None:
            nonlocal credited
            credited = account.credit_rebates(credited_on, actor)

        self._update_account(business_id, actor, command)
        return credited

    def set_wage_payment_date(self, business_id: str, month: str, paid_on: date,
                              actor: Actor) -> None:
        self._update_account(business_id, actor, lambda a: a.set_wage_payment_date(
            month, paid_on, actor))

    # -- phone entry (スマホ入場) ------------------------------------------------------------------
    @cached_property
    def gate_code_key(self) -> bytes:
        """The HMAC key of the gate codes: a file outside the database, made on first use."""
        return gate_code_key.load_or_create(self.settings.gate_code_key_path)

    def _gate_site(self, site_id: str, actor: Actor) -> Site:
        """The site, if the actor may show its gate code; a site it may not know of is absent."""
        site = self.site(site_id)
        reader_site = None
        if actor.role is Role.READER:
            with contextlib.suppress(UnknownReference):
                reader = self.reader(actor.id)
                reader_site = None if reader.retired else reader.site_id
        if not may_show_gate_code(actor, site, reader_site):
            if actor.role is Role.READER or not relates_to_site(actor, site):
                raise UnknownReference("site_id", "site_id.exists", f"{site_id} is not registered")
            raise NotPermitted("actor", "gate_code.staff",
                               "only the site's prime, its site manager or its reader shows it")
        return site

    def gate_code(self, site_id: str, actor: Actor, direction: str | None = None) -> str:
        """The code the site's gate page shows now (it changes every `gate_codes.STEP`)."""
        site = self._gate_site(site_id, actor)
        return issue_screen_code(self.gate_code_key, site.site_id, clock.now(), direction)

    def printed_gate_code(self, site_id: str, day: date, actor: Actor,
                          direction: str | None = None) -> str:
        """A printed code valid for one JST day, for a site with no screen at its gate."""
        site = self._gate_site(site_id, actor)
        require_date(day, "day")
        return issue_printed_code(self.gate_code_key, site.site_id, day, direction)

    def set_site_area(self, site_id: str, area: Area | None, actor: Actor) -> None:
        """Where the site's phone taps are expected from (None: anywhere)."""
        site = self.site(site_id)
        if not relates_to_site(actor, site):
            raise UnknownReference("site_id", "site_id.exists", f"{site_id} is not registered")
        site.check_staff(actor)
        try:
            found: object = self.repository.get(site_area_aggregate_id(site.site_id))
            holder = found if isinstance(found, SiteArea) else None
        except AggregateNotFoundError:
            holder = None
        if holder is None:
            holder = SiteArea.start(site.site_id, actor)
        holder.set(area, actor)
        self.save(holder)

    def site_area(self, site_id: str) -> Area | None:
        try:
            found: object = self.repository.get(site_area_aggregate_id(SiteId(site_id)))
        except AggregateNotFoundError:
            return None
        return found.area if isinstance(found, SiteArea) else None

    def _phone_registrar(self, technician_id: str, actor: Actor) -> Worker:
        require_role(actor, Role.ADMIN, Role.EMPLOYER)
        worker = visible_worker(self, actor, technician_id)
        self._worker_admin(actor, worker)
        return worker

    def phone_registration_options(self, technician_id: str, rp_id: str, actor: Actor) -> str:
        """The WebAuthn options (JSON) to make the worker's passkey on their phone: asked by
        their employer or an administrator, with the phone in hand."""
        worker = self._phone_registrar(technician_id, actor)
        return registration_options(self.gate_code_key, worker.technician_id, worker.name,
                                    rp_id, clock.now())

    def register_phone(self, technician_id: str, credential: dict[str, Any], rp_id: str,
                       origin: str, actor: Actor) -> str:
        """Bind a phone to the worker by the passkey it made; returns the phone's reader ID."""
        worker = self._phone_registrar(technician_id, actor)
        credential_id, public_key = verify_registration(
            self.gate_code_key, credential, worker.technician_id, rp_id, origin, clock.now())
        device = PhoneDevice.register(credential_id, public_key, worker.technician_id, actor)
        self._create(device, "credential_id", "this passkey")
        return device.reader_id

    def revoke_phone(self, credential_id: str, reason: str, actor: Actor) -> None:
        """A lost or replaced phone: its passkey signs no more taps (its taps stay)."""
        device = self.phone_device(credential_id)
        self._phone_registrar(device.technician_id, actor)
        device.revoke(require_text(reason, "reason", 500), actor)
        self.save(device)

    def phone_device(self, credential_id: str) -> PhoneDevice:
        return self._load(PhoneDevice, phone_device_aggregate_id(credential_id), "credential_id",
                          "this passkey")

    def record_phone_tap(self, payload: str, sent_at: datetime, credential: dict[str, Any],
                         rp_id: str, origin: str) -> PhoneTapReceipt:
        """Record a tap a worker's phone made at a site's gate code and signed with its passkey.

        Refused (nothing stored): a passkey not registered or revoked, a signature that does not
        hold, a code not signed by this server, not valid when scanned, or sent after the
        offline bound, and a code already used for this worker by another tap (a forwarded photo,
        another phone). Stored and flagged: a position outside the site's area or none."""
        device = self.phone_device(credential_id_of(credential))
        if device.revoked:
            raise NotPermitted("credential", "phone.revoked", "this phone is revoked")
        verify_tap(credential, payload, device.public_key, rp_id, origin)
        tap = parse_payload(payload)
        if TapId(tap.tap_id).split(":", 1)[0] != device.reader_id:
            raise NotPermitted("tap_id", "tap.reader", "a phone appends its own taps only")
        received_at = clock.now()
        scanned = scan_moment(received_at, tap.scanned_at, sent_at)
        code = check_code(self.gate_code_key, tap.code, None, scanned, received_at)
        actor = Actor(Role.WORKER, device.technician_id)
        recorded = PhoneTap.observed(
            tap.tap_id, device.technician_id, code, tap.direction, scanned, tap.scanned_at,
            received_at, self.site_area(code.site_id), tap.fix, actor)
        try:
            recordings = self.save(recorded)
        except RecordConflictError:
            stored: object = self.repository.get(recorded.id)
            if isinstance(stored, PhoneTap) and stored.tap_id == recorded.tap_id:
                return PhoneTapReceipt(stored.tap_id, "duplicate", None, stored.site_id,
                                       stored.direction.value, tuple(stored.phone_flags))
            raise AlreadyExists("code", "code.used",
                                "this code was used for this worker already") from None
        return PhoneTapReceipt(recorded.tap_id, "accepted", recordings[-1].notification.id,
                               recorded.site_id, recorded.direction.value,
                               tuple(recorded.phone_flags), recorded.technician_id,
                               recorded.reader_id, recorded.reader_time, recorded.received_at)
