"""Claims that count only once the worker consents (Issue 13), and the calendar bound on
certified days, in memory."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.actors import Actor, Role
from ledger.domain.worker import (
    CertificateClaim,
    CertifierRelation,
    Worker,
    union_calendar_days,
)
from ledger.errors import InvalidState, InvalidValue, NotPermitted, UnknownReference
from projections.levels import CareerCertificate
from projections.queries.levels import _Certified, _within_calendar
from tests.unit.world import ADMIN, OTHER, SUB, a_worker

EMPLOYER, PRIME = CertifierRelation.EMPLOYER, CertifierRelation.PRIME_CONTRACTOR

CLAIMANT = Actor(Role.EMPLOYER, OTHER)


def test_a_requested_employment_counts_only_once_confirmed() -> None:
    worker = a_worker()
    assert worker.request_employment(OTHER, date(2025, 6, 1), False, CLAIMANT) is True
    assert worker.employers_on(date(2025, 6, 2)) == {SUB}
    worker.confirm_employment(OTHER, ADMIN)
    assert worker.employers_on(date(2025, 6, 2)) == {SUB, OTHER}
    assert worker.employment_requests == {}


def test_asking_again_while_pending_records_nothing_new() -> None:
    worker = a_worker()
    worker.request_employment(OTHER, date(2025, 6, 1), False, CLAIMANT)
    pending = len(worker.collect_events())
    assert worker.request_employment(OTHER, date(2025, 7, 1), False, CLAIMANT) is False
    assert pending == 3 and worker.collect_events() == []  # registered, employed, requested
    assert worker.employment_requests[OTHER].since == date(2025, 6, 1)


def test_a_current_employer_cannot_request_itself_again() -> None:
    with pytest.raises(InvalidState, match="employed there already"):
        a_worker().request_employment(SUB, date(2025, 6, 1), False, Actor(Role.EMPLOYER, SUB))


def test_a_declined_request_is_gone_and_cannot_be_confirmed() -> None:
    worker = a_worker()
    worker.request_employment(OTHER, date(2025, 6, 1), False, CLAIMANT)
    worker.decline_employment(OTHER, ADMIN)
    with pytest.raises(UnknownReference, match="no pending request"):
        worker.confirm_employment(OTHER, ADMIN)
    assert OTHER not in worker.employers_on(date(2025, 6, 2))


def test_an_employer_certifies_only_within_its_recorded_employment() -> None:
    worker = a_worker(employed_since=date(2018, 4, 1))
    worker.add_qualification("玉掛技能講習", date(2015, 4, 1), ADMIN)
    worker.leave_employer(SUB, date(2019, 3, 31), ADMIN)
    worker.join_employer(SUB, date(2020, 4, 1), True, ADMIN)  # a gap of a year

    def certify(start: date, end: date) -> None:
        worker.certify_career(CertificateClaim(SUB, EMPLOYER, "鉄筋", start, end, 10),
                              date(2025, 6, 1), ADMIN)

    certify(date(2018, 4, 1), date(2019, 3, 31))
    certify(date(2020, 4, 1), date(2024, 3, 31))
    with pytest.raises(InvalidValue, match="recorded employment"):
        certify(date(2019, 1, 1), date(2020, 6, 30))  # spans the gap
    with pytest.raises(InvalidValue, match="recorded employment") as refused:
        certify(date(2017, 4, 1), date(2018, 6, 30))  # starts before
    assert refused.value.field == "period_start"
    with pytest.raises(NotPermitted, match="never employed"):
        worker.certify_career(
            CertificateClaim(OTHER, EMPLOYER, "鉄筋", date(2020, 4, 1), date(2021, 3, 31), 10),
            date(2025, 6, 1), ADMIN)


def test_overlapping_certificates_of_a_trade_stay_within_their_union() -> None:
    worker = a_worker(employed_since=date(2010, 1, 1))
    worker.add_qualification("玉掛技能講習", date(2010, 1, 1), ADMIN)
    whole = (date(2010, 1, 1), date(2024, 3, 31))  # 5,204 calendar days
    worker.certify_career(CertificateClaim(SUB, EMPLOYER, "鉄筋", *whole, 5000), date(2025, 6, 1),
                          ADMIN)
    with pytest.raises(InvalidValue, match="5204 calendar days") as refused:
        worker.certify_career(CertificateClaim(SUB, EMPLOYER, "鉄筋", *whole, 205),
                              date(2025, 6, 1), ADMIN)
    assert refused.value.rule == "career_certificate.calendar"
    worker.certify_career(CertificateClaim(SUB, EMPLOYER, "鉄筋", *whole, 204), date(2025, 6, 1),
                          ADMIN)
    # another trade has a calendar of its own
    worker.certify_career(CertificateClaim(SUB, EMPLOYER, "型枠", *whole, 100), date(2025, 6, 1),
                          ADMIN)


def test_a_proposed_certificate_is_checked_against_the_record_when_confirmed() -> None:
    worker: Worker = a_worker()
    worker.propose_career_certificate(
        "c1", CertificateClaim(OTHER, PRIME, "鉄筋", date(2016, 4, 1), date(2017, 3, 31), 200),
        date(2025, 6, 1), "施工体制台帳", ADMIN)
    with pytest.raises(InvalidValue, match="no registered qualification"):
        worker.confirm_career_certificate("c1", ADMIN)
    worker.add_qualification("玉掛技能講習", date(2016, 4, 1), ADMIN)
    worker.confirm_career_certificate("c1", ADMIN)
    assert worker.career_certificates[0]["basis"] == "施工体制台帳"
    with pytest.raises(UnknownReference):
        worker.confirm_career_certificate("c1", ADMIN)  # once


def test_a_proposal_needs_a_basis_and_is_not_an_employers() -> None:
    worker = a_worker()
    args = ("鉄筋", date(2016, 4, 1), date(2017, 3, 31), 200)
    with pytest.raises(InvalidValue) as refused:
        worker.propose_career_certificate(
            "c1", CertificateClaim(OTHER, PRIME, *args), date(2025, 6, 1), " ", ADMIN)
    assert refused.value.field == "basis"
    with pytest.raises(InvalidValue) as refused:
        worker.propose_career_certificate(
            "c2", CertificateClaim(SUB, EMPLOYER, *args), date(2025, 6, 1), "x", ADMIN)
    assert refused.value.field == "relation"


@pytest.mark.parametrize(("periods", "days"), [
    ([], 0),
    ([(date(2024, 1, 1), date(2024, 1, 31))], 31),
    ([(date(2024, 1, 1), date(2024, 1, 31)), (date(2024, 1, 15), date(2024, 2, 10))], 41),
    ([(date(2024, 1, 1), date(2024, 3, 31)), (date(2024, 2, 1), date(2024, 2, 29))], 91),
    ([(date(2024, 1, 1), date(2024, 1, 10)), (date(2024, 1, 11), date(2024, 1, 20))], 20),
    ([(date(2024, 3, 1), date(2024, 3, 2)), (date(2024, 1, 1), date(2024, 1, 2))], 4),
])
def test_union_calendar_days(periods: list[tuple[date, date]], days: int) -> None:
    assert union_calendar_days(periods) == days


def test_levels_count_certified_days_within_the_calendar_whatever_was_recorded() -> None:
    """Certificates recorded before the calendar rule still count no more than it allows."""
    whole = (date(2010, 1, 1), date(2024, 3, 31))
    four = [_Certified("鉄筋", *whole, CareerCertificate(2000, 900, 500)) for _ in range(4)]
    assert _within_calendar(four) == CareerCertificate(5204, 3600, 1604)
    assert _within_calendar(four[:2]) == CareerCertificate(4000, 1800, 1000)
