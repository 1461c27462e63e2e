"""The Ledger's use cases, in memory (the library's POPO recorder): gate taps, manual entries and
their approval, corrections, employment claims and career certificates, each as the parties live
them. How SQLite and PostgreSQL store the same events is tested in tests/integration."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from uuid import UUID

import pytest

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger, Registration
from ledger.clock import JST
from ledger.domain.requests import RequestStatus
from ledger.domain.taps import TapObservation
from ledger.domain.worker import CertificateClaim, CertifierRelation
from ledger.errors import InvalidValue, NotPermitted, UnknownReference
from ledger.settings import Settings
from ledger.storage.memory import LedgerPOPORecorder
from tests.integration.world import (
    ADMIN,
    EMPLOYER_ADMIN,
    OTHER,
    PRIME,
    PRIME_STAFF,
    SITE,
    SUB,
    TECHNICIAN,
    WORKER_SELF,
    register_world,
)

GATE = "GATE-1"
CARD = "04A1B2C3"
WORK_DATE = date(2025, 6, 19)
OTHER_OFFICE = Actor(Role.EMPLOYER, OTHER)


@pytest.fixture
def ledger(now: clock.FixedClock) -> Iterator[Ledger]:
    # A database URL nothing could open: the in-memory ledger must not touch it.
    app = Ledger(Settings(database_url="sqlite:////nonexistent/ledger.db"), in_memory=True)
    register_world(app)
    yield app
    app.close()


def gate_tap(sequence: int, card: str = CARD, minutes: int = 0) -> TapObservation:
    at = datetime(2025, 6, 20, 7, 58, tzinfo=JST) + timedelta(minutes=minutes)
    return TapObservation(f"{GATE}:{sequence}", GATE, "in", at, card_id=card)


def events_of(ledger: Ledger, aggregate_id: UUID) -> list[str]:
    return [type(e).__name__ for _, e in ledger.iter_log() if e.originator_id == aggregate_id]


def test_the_ledger_runs_on_the_librarys_in_memory_recorder(ledger: Ledger) -> None:
    assert isinstance(ledger.recorder, LedgerPOPORecorder)
    assert ledger.log_position() > 0  # the world was registered through the use cases


class TestGateTaps:
    def test_a_tap_is_stored_once_and_its_resend_is_a_duplicate(self, ledger: Ledger) -> None:
        reader = Actor(Role.READER, GATE)
        [first] = ledger.record_taps([gate_tap(1)], reader)
        assert first.status == "accepted" and first.position == ledger.log_position()
        [again] = ledger.record_taps([gate_tap(1)], reader)
        assert again.status == "duplicate" and again.position is None
        assert ledger.log_position() == first.position

    def test_a_batch_stores_its_new_taps_beside_the_ones_already_stored(
        self, ledger: Ledger
    ) -> None:
        ledger.record_taps([gate_tap(1), gate_tap(2)], ADMIN)
        receipts = ledger.record_taps([gate_tap(2), gate_tap(3), gate_tap(3)], ADMIN)
        assert [r.status for r in receipts] == ["duplicate", "accepted", "duplicate"]

    def test_a_resend_with_other_content_is_kept_as_a_conflict(self, ledger: Ledger) -> None:
        ledger.record_taps([gate_tap(1)], ADMIN)
        changed = replace(gate_tap(1), card_id="0FFFFFFF")
        [conflict] = ledger.record_taps([changed], ADMIN)
        assert conflict.status == "conflict"
        assert conflict.stored_content_hash == gate_tap(1).content_hash != changed.content_hash
        assert [r.status for r in ledger.record_taps([changed], ADMIN)] == ["duplicate"]
        kinds = [type(e).__qualname__ for _, e in ledger.iter_log()]
        assert kinds.count("Tap.Recorded") == 1 and kinds.count("Tap.ConflictingObservation") == 1

    def test_a_reader_appends_its_own_taps_only(self, ledger: Ledger) -> None:
        before = ledger.log_position()
        with pytest.raises(NotPermitted) as refused:
            ledger.record_taps([gate_tap(1)], Actor(Role.READER, "GATE-2"))
        assert refused.value.field == "reader_id"
        assert ledger.log_position() == before


class TestManualEntry:
    """手入力: a day the gate missed, counted once the site's prime approves it."""

    def request(self, ledger: Ledger, actor: Actor = WORKER_SELF) -> UUID:
        return ledger.request_manual_entry(
            TECHNICIAN, SITE, WORK_DATE, SUB, "鉄筋", "一般", "配筋", actor,
            note="forgot my card",
        )

    def test_the_worker_asks_and_the_prime_approves(self, ledger: Ledger) -> None:
        entry_id = self.request(ledger)
        assert ledger.request(entry_id).status is RequestStatus.PENDING
        ledger.approve(entry_id, PRIME_STAFF)
        entry = ledger.request(entry_id)
        assert entry.status is RequestStatus.APPROVED and entry.prime_business_id == PRIME
        assert events_of(ledger, entry_id) == ["Requested", "Approved"]

    def test_only_the_prime_approves_and_a_refusal_writes_nothing(self, ledger: Ledger) -> None:
        entry_id = self.request(ledger, EMPLOYER_ADMIN)
        before = ledger.log_position()
        with pytest.raises(NotPermitted):
            ledger.approve(entry_id, EMPLOYER_ADMIN)
        assert ledger.log_position() == before
        assert ledger.request(entry_id).status is RequestStatus.PENDING

    def test_a_rejection_keeps_its_reason(self, ledger: Ledger) -> None:
        entry_id = self.request(ledger)
        ledger.reject(entry_id, "not on the gate camera", PRIME_STAFF)
        assert ledger.request(entry_id).status is RequestStatus.REJECTED
        assert events_of(ledger, entry_id) == ["Requested", "Rejected"]


class TestCorrection:
    """訂正: a recorded day changed, once the prime approves the change."""

    def test_the_employer_asks_and_the_prime_approves(self, ledger: Ledger) -> None:
        correction_id = ledger.request_correction(
            TECHNICIAN, SITE, WORK_DATE, SUB, {"position": "職長"}, "was foreman", EMPLOYER_ADMIN
        )
        correction = ledger.request(correction_id)
        assert correction.status is RequestStatus.PENDING
        assert correction.changes == {"position": "職長"}  # type: ignore[attr-defined]
        ledger.approve(correction_id, PRIME_STAFF)
        assert ledger.request(correction_id).status is RequestStatus.APPROVED

    def test_a_business_without_the_worker_may_not_ask(self, ledger: Ledger) -> None:
        before = ledger.log_position()
        with pytest.raises(NotPermitted):
            ledger.request_correction(
                TECHNICIAN, SITE, WORK_DATE, SUB, {"position": "職長"}, "was foreman",
                OTHER_OFFICE,
            )
        assert ledger.log_position() == before


class TestEmploymentClaim:
    """所属事業者: a business's claim on a worker counts once the worker consents."""

    def test_the_claim_counts_once_the_worker_confirms(self, ledger: Ledger) -> None:
        outcome = ledger.join_employer(TECHNICIAN, OTHER, date(2025, 6, 1), False, OTHER_OFFICE)
        assert outcome is Registration.EMPLOYMENT_REQUESTED
        assert OTHER not in ledger.worker(TECHNICIAN).employers_on(date(2025, 6, 20))
        ledger.confirm_employment(TECHNICIAN, OTHER, WORKER_SELF)
        worker = ledger.worker(TECHNICIAN)
        assert worker.employers_on(date(2025, 6, 20)) == {SUB, OTHER}
        assert worker.employment_requests == {}

    def test_the_claimant_never_confirms_its_own_claim(self, ledger: Ledger) -> None:
        ledger.join_employer(TECHNICIAN, OTHER, date(2025, 6, 1), False, OTHER_OFFICE)
        with pytest.raises(NotPermitted):
            ledger.confirm_employment(TECHNICIAN, OTHER, OTHER_OFFICE)
        assert OTHER in ledger.worker(TECHNICIAN).employment_requests

    def test_a_declined_claim_never_counts(self, ledger: Ledger) -> None:
        ledger.join_employer(TECHNICIAN, OTHER, date(2025, 6, 1), False, OTHER_OFFICE)
        ledger.decline_employment(TECHNICIAN, OTHER, WORKER_SELF)
        worker = ledger.worker(TECHNICIAN)
        assert OTHER not in worker.employers_on(date(2025, 6, 20))
        with pytest.raises(UnknownReference):
            ledger.confirm_employment(TECHNICIAN, OTHER, WORKER_SELF)


class TestCareerCertificate:
    """経歴証明: days before CCUS use, certified by an employer, or by the prime (or an upper
    subcontractor) and then confirmed by the worker."""

    PRIME_CLAIM = CertificateClaim(
        PRIME, CertifierRelation.PRIME_CONTRACTOR, "鉄筋", date(2019, 5, 1), date(2020, 3, 31),
        200, foreman_days=20,
    )

    @pytest.fixture(autouse=True)
    def qualified(self, ledger: Ledger) -> None:
        ledger.add_qualification(TECHNICIAN, "玉掛技能講習", date(2015, 4, 1), ADMIN)

    def test_a_prime_proposes_and_it_counts_once_the_worker_confirms(
        self, ledger: Ledger
    ) -> None:
        ledger.propose_career_certificate(TECHNICIAN, "c1", self.PRIME_CLAIM, "施工体制台帳",
                                          PRIME_STAFF)
        assert ledger.worker(TECHNICIAN).career_certificates == []
        ledger.confirm_career_certificate(TECHNICIAN, "c1", WORKER_SELF)
        [counted] = ledger.worker(TECHNICIAN).career_certificates
        assert counted["work_days"] == 200 and counted["foreman_days"] == 20
        assert counted["certified_on"] == date(2025, 6, 20)  # the ledger's day, not the caller's
        assert counted["basis"] == "施工体制台帳"

    def test_the_certifier_never_confirms_its_own_certificate(self, ledger: Ledger) -> None:
        ledger.propose_career_certificate(TECHNICIAN, "c1", self.PRIME_CLAIM, "施工体制台帳",
                                          PRIME_STAFF)
        with pytest.raises(NotPermitted):
            ledger.confirm_career_certificate(TECHNICIAN, "c1", PRIME_STAFF)
        ledger.decline_career_certificate(TECHNICIAN, "c1", WORKER_SELF)
        assert ledger.worker(TECHNICIAN).career_certificates == []
        with pytest.raises(UnknownReference):
            ledger.confirm_career_certificate(TECHNICIAN, "c1", WORKER_SELF)

    def test_an_employer_certifies_its_own_period_directly(self, ledger: Ledger) -> None:
        claim = CertificateClaim(SUB, CertifierRelation.EMPLOYER, "鉄筋", date(2020, 4, 1),
                                 date(2024, 3, 31), 900)
        ledger.certify_career(TECHNICIAN, claim, EMPLOYER_ADMIN)
        [counted] = ledger.worker(TECHNICIAN).career_certificates
        assert counted["relation"] is CertifierRelation.EMPLOYER and counted["work_days"] == 900

    def test_a_business_certifies_in_its_own_name_only(self, ledger: Ledger) -> None:
        before = ledger.log_position()
        with pytest.raises(NotPermitted):
            ledger.propose_career_certificate(TECHNICIAN, "c1", self.PRIME_CLAIM, "施工体制台帳",
                                              OTHER_OFFICE)
        assert ledger.log_position() == before

    def test_a_proposal_about_an_unregistered_worker_is_checked_before_the_worker(
        self, ledger: Ledger
    ) -> None:
        """The form and the basis are refused alike whoever the worker is; only then is the
        worker looked up."""
        with pytest.raises(InvalidValue) as refused:
            ledger.propose_career_certificate("99999999999999", "c1", self.PRIME_CLAIM, " ",
                                              PRIME_STAFF)
        assert refused.value.field == "basis"
        with pytest.raises(UnknownReference) as unknown:
            ledger.propose_career_certificate("99999999999999", "c1", self.PRIME_CLAIM, "台帳",
                                              PRIME_STAFF)
        assert unknown.value.field == "technician_id"

    @pytest.mark.parametrize(("change", "field"), [
        ({"period_end": date(2024, 4, 1)}, "period_end"),
        ({"period_start": date(2020, 4, 1)}, "period_start"),
        ({"work_days": 400}, "work_days"),
        ({"foreman_days": 150, "team_leader_days": 51}, "foreman_days"),
        ({"relation": "foreman"}, "relation"),
        ({"trade": " "}, "trade"),
    ])
    def test_a_claim_is_refused_on_construction_naming_the_field(
        self, change: dict[str, object], field: str
    ) -> None:
        with pytest.raises(InvalidValue) as refused:
            replace(self.PRIME_CLAIM, **change)  # type: ignore[arg-type]
        assert refused.value.field == field
