from datetime import date

import pytest

from ledger.domain.worker import CertificateClaim, CertifierRelation, Worker
from ledger.errors import DeadlinePassed, InvalidState, InvalidValue, NotPermitted
from tests.unit.world import ADMIN, OTHER, SUB, a_worker


def test_a_worker_is_employed_over_a_period_and_the_first_employer_is_primary() -> None:
    worker = a_worker(employed_since=date(2020, 4, 1))
    worker.join_employer(OTHER, date(2023, 1, 1), False, ADMIN)
    worker.leave_employer(SUB, date(2024, 3, 31), ADMIN)

    assert worker.employers_on(date(2022, 6, 1)) == {SUB}
    assert worker.employers_on(date(2023, 6, 1)) == {SUB, OTHER}
    assert worker.employers_on(date(2024, 4, 1)) == {OTHER}
    assert worker.primary_employer == OTHER  # primary passes on when the primary employer ends


def test_joining_the_same_employer_twice_while_employed_is_refused() -> None:
    worker = a_worker()
    with pytest.raises(InvalidState, match="employed there already"):
        worker.join_employer(SUB, date(2024, 1, 1), False, ADMIN)


def test_kentaikyo_enrollment_counts_from_its_date() -> None:
    worker = a_worker()
    worker.enroll_in_kentaikyo("0012345", date(2021, 10, 1), ADMIN)
    assert not worker.is_enrolled_on(date(2021, 9, 30))
    assert worker.is_enrolled_on(date(2021, 10, 1))
    with pytest.raises(InvalidState):
        worker.enroll_in_kentaikyo("0012346", date(2022, 1, 1), ADMIN)


def test_social_insurance_is_confirmed_when_every_scheme_is_enrolled_or_exempt() -> None:
    worker = a_worker()
    worker.confirm_social_insurance("enrolled", "enrolled", "exempt", date(2025, 4, 1), ADMIN)
    assert worker.social_insurance_confirmed
    worker.confirm_social_insurance("enrolled", "not_enrolled", "exempt", date(2025, 5, 1), ADMIN)
    assert not worker.social_insurance_confirmed
    with pytest.raises(InvalidValue, match="pension"):
        worker.confirm_social_insurance("enrolled", "maybe", "exempt", date(2025, 5, 1), ADMIN)


class TestCareerCertificate:
    """経歴証明: figures as certified, within the 2024-03-31 / 2029-03-31 limits."""

    def certified(self, worker: Worker, **change: object) -> None:
        values: dict = {
            "certifier_business_id": SUB,
            "relation": CertifierRelation.EMPLOYER,
            "trade": "鉄筋",
            "period_start": date(2015, 4, 1),
            "period_end": date(2024, 3, 31),
            "work_days": 1800,
            "foreman_days": 300,
            "team_leader_days": 100,
            "certified_on": date(2025, 6, 1),
            "actor": ADMIN,
        } | change
        certified_on, actor = values.pop("certified_on"), values.pop("actor")
        worker.certify_career(CertificateClaim(**values), certified_on, actor)

    def qualified_worker(self) -> Worker:
        worker = a_worker(employed_since=date(2015, 1, 1))  # an employer certifies its own period
        worker.add_qualification("玉掛技能講習", date(2015, 4, 1), ADMIN)
        return worker

    def test_certified_days_are_stored_as_given(self) -> None:
        worker = self.qualified_worker()
        self.certified(worker)
        assert worker.career_certificates[0]["work_days"] == 1800

    def test_a_period_ending_after_2024_03_31_is_refused(self) -> None:
        with pytest.raises(InvalidValue, match="2024-03-31"):
            self.certified(self.qualified_worker(), period_end=date(2024, 4, 1))

    def test_certificates_are_accepted_until_2029_03_31(self) -> None:
        worker = self.qualified_worker()
        self.certified(worker, certified_on=date(2029, 3, 31), work_days=100, foreman_days=0,
                       team_leader_days=0)
        with pytest.raises(DeadlinePassed):
            self.certified(worker, certified_on=date(2029, 4, 1))

    def test_the_period_starts_no_earlier_than_the_earliest_qualification(self) -> None:
        with pytest.raises(InvalidValue, match="earliest registered qualification"):
            self.certified(self.qualified_worker(), period_start=date(2015, 3, 31))
        with pytest.raises(InvalidValue, match="no registered qualification"):
            self.certified(a_worker(employed_since=date(2015, 1, 1)))

    def test_an_employer_certificate_must_come_from_an_employer_of_the_worker(self) -> None:
        with pytest.raises(NotPermitted, match="never employed"):
            self.certified(self.qualified_worker(), certifier_business_id=OTHER)
        worker = self.qualified_worker()
        claim = CertificateClaim(
            certifier_business_id=OTHER, relation=CertifierRelation.PRIME_CONTRACTOR,
            trade="鉄筋", period_start=date(2015, 4, 1), period_end=date(2024, 3, 31),
            work_days=1800, foreman_days=300, team_leader_days=100)
        with pytest.raises(InvalidValue, match="counts once the worker confirms"):
            worker.certify_career(claim, date(2025, 6, 1), ADMIN)
        worker.propose_career_certificate("c1", claim, date(2025, 6, 1), "施工体制台帳 2016", ADMIN)
        assert worker.career_certificates == []
        worker.confirm_career_certificate("c1", ADMIN)
        assert worker.career_certificates[0]["relation"].value == "prime_contractor"

    def test_more_days_than_the_period_holds_are_refused(self) -> None:
        with pytest.raises(InvalidValue, match="calendar days"):
            self.certified(self.qualified_worker(), period_start=date(2024, 3, 1), work_days=32)
        with pytest.raises(InvalidValue, match="exceed the work days"):
            self.certified(
                self.qualified_worker(), work_days=100, foreman_days=80, team_leader_days=21
            )
