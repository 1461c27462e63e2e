"""直接入力: the worker or the employer requests, the prime approves, before the deadline."""

from datetime import date, datetime, timedelta

import pytest

from ledger.actors import Actor, Role
from ledger.clock import JST
from ledger.domain.requests import Correction, ManualEntry, RequestStatus
from ledger.errors import DeadlinePassed, InvalidState, InvalidValue, NotPermitted, UnknownReference
from tests.unit.world import (
    EMPLOYER_ADMIN,
    OTHER,
    PRIME_STAFF,
    SUB,
    WORKER_SELF,
    a_site,
    a_worker,
)

WORK_DATE = date(2025, 6, 2)
SOON = datetime(2025, 6, 3, 9, 0, tzinfo=JST)
LAST_MOMENT = datetime(2025, 7, 31, 23, 59, 59, tzinfo=JST)
TOO_LATE = datetime(2025, 8, 1, 0, 0, tzinfo=JST)


def requested(actor: Actor = WORKER_SELF, now: datetime = SOON, **change: object) -> ManualEntry:
    values: dict = {
        "worker": a_worker(),
        "site": a_site(),
        "work_date": WORK_DATE,
        "employer_business_id": SUB,
        "trade": "鉄筋",
        "position": "一般",
        "work_content": "配筋",
        "entry_at": datetime(2025, 6, 2, 8, 0, tzinfo=JST),
        "exit_at": datetime(2025, 6, 2, 17, 0, tzinfo=JST),
        "note": "forgot my card",
        "actor": actor,
        "now": now,
    } | change
    return ManualEntry.request(**values)


def test_the_worker_requests_and_the_prime_approves() -> None:
    entry = requested()
    assert entry.status is RequestStatus.PENDING
    entry.approve(PRIME_STAFF, SOON)
    assert entry.status is RequestStatus.APPROVED
    assert [type(e).__name__ for e in entry.collect_events()] == ["Requested", "Approved"]


def test_an_administrator_of_the_workers_employer_may_request() -> None:
    assert requested(actor=EMPLOYER_ADMIN).status is RequestStatus.PENDING


@pytest.mark.parametrize(
    "actor",
    [PRIME_STAFF, Actor(Role.EMPLOYER, OTHER), Actor(Role.WORKER, "99999999999999")],
    ids=["site-manager-of-the-prime", "another-business", "another-worker"],
)
def test_nobody_else_may_request(actor: Actor) -> None:
    with pytest.raises(NotPermitted, match="worker or an administrator"):
        requested(actor=actor)


def test_only_the_sites_prime_may_decide() -> None:
    for wrong in (EMPLOYER_ADMIN, WORKER_SELF, Actor(Role.PRIME_CONTRACTOR, OTHER)):
        with pytest.raises(NotPermitted, match="prime contractor"):
            requested().approve(wrong, SOON)


def test_approval_closes_at_the_end_of_the_following_month_jst() -> None:
    entry = requested()
    entry.approve(PRIME_STAFF, LAST_MOMENT)
    with pytest.raises(DeadlinePassed):
        requested().approve(PRIME_STAFF, TOO_LATE)


def test_a_request_after_the_deadline_is_refused_and_so_is_the_future() -> None:
    with pytest.raises(DeadlinePassed, match="2025-07"):
        requested(now=TOO_LATE)
    with pytest.raises(InvalidValue, match="future"):
        requested(now=datetime(2025, 6, 1, 12, 0, tzinfo=JST))


def test_a_rejection_gives_its_reason_and_stays_decided() -> None:
    entry = requested()
    entry.reject("not on site that day", PRIME_STAFF, SOON)
    assert entry.status is RequestStatus.REJECTED
    with pytest.raises(InvalidState, match="rejected"):
        entry.approve(PRIME_STAFF, SOON)
    with pytest.raises(InvalidValue, match="reason"):
        requested().reject("  ", PRIME_STAFF, SOON)


def test_a_pending_request_expires_only_after_its_deadline() -> None:
    system = Actor(Role.SYSTEM, "expiry")
    with pytest.raises(InvalidState, match="not passed"):
        requested().expire(system, LAST_MOMENT)
    entry = requested()
    entry.expire(system, TOO_LATE)
    assert entry.status is RequestStatus.EXPIRED
    with pytest.raises(InvalidState):
        entry.approve(PRIME_STAFF, SOON)


def test_the_employer_must_employ_the_worker_on_the_work_date_and_be_on_the_site() -> None:
    with pytest.raises(UnknownReference, match="not employed by 300"):
        requested(employer_business_id=OTHER)
    with pytest.raises(UnknownReference, match="employer"):
        requested(worker=a_worker(employed_since=date(2025, 6, 3)))


def test_times_must_fit_the_work_date_and_a_shift() -> None:
    with pytest.raises(InvalidValue, match="entry_at"):
        requested(entry_at=datetime(2025, 6, 3, 8, 0, tzinfo=JST))
    with pytest.raises(InvalidValue, match="after entry_at"):
        requested(exit_at=datetime(2025, 6, 2, 7, 0, tzinfo=JST))
    overnight = requested(exit_at=datetime(2025, 6, 3, 6, 0, tzinfo=JST))  # belongs to its start
    assert overnight.work_date == WORK_DATE
    with pytest.raises(InvalidValue, match="24 hours"):
        requested(exit_at=datetime(2025, 6, 2, 8, 0, tzinfo=JST) + timedelta(hours=25))


class TestCorrection:
    def corrected(self, **change: object) -> Correction:
        values: dict = {
            "worker": a_worker(),
            "site": a_site(),
            "work_date": WORK_DATE,
            "employer_business_id": SUB,
            "changes": {"position": "職長"},
            "reason": "was foreman that day",
            "actor": EMPLOYER_ADMIN,
            "now": SOON,
        } | change
        return Correction.request(**values)

    def test_a_correction_names_its_changes_and_reason_and_waits_for_the_prime(self) -> None:
        correction = self.corrected()
        assert correction.changes == {"position": "職長"}
        correction.approve(PRIME_STAFF, SOON)
        assert correction.status is RequestStatus.APPROVED

    def test_a_correction_needs_a_reason_and_a_known_field(self) -> None:
        with pytest.raises(InvalidValue, match="reason"):
            self.corrected(reason="")
        with pytest.raises(InvalidValue, match="cannot be corrected"):
            self.corrected(changes={"employer_business_id": OTHER})
        with pytest.raises(InvalidValue, match="at least one"):
            self.corrected(changes={})
