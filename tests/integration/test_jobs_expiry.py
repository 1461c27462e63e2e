"""Manual-entry and correction expiry: pending past the end of the month after the work date
(JST), then never approvable; month ends, the year end and a leap February."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from uuid import UUID

import pytest

from ledger.actors import SYSTEM, Actor, Role
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.requests import RequestStatus
from ledger.errors import InvalidState
from ledger.settings import Settings
from projections.jobs.expiry import expire_entries
from tests.integration.jobs_world import PRIME, SITE, SUB, T1, World, jst

PRIME_STAFF = Actor(Role.PRIME_CONTRACTOR, PRIME)
SUB_ADMIN = Actor(Role.EMPLOYER, SUB)


@pytest.fixture
def world(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    with World.built(ledger, settings, now, at=jst(2023, 12, 1, 9),
                     opened_on=date(2023, 12, 1)) as built:
        yield built


def request(world: World, work_date: date, at: datetime) -> UUID:
    world.clock.at = at
    return world.ledger.request_manual_entry(T1, SITE, work_date, SUB, "鉄筋", "一般", "配筋",
                                             SUB_ADMIN)


def status(world: World, request_id: UUID) -> RequestStatus:
    return world.ledger.request(request_id).status


@pytest.mark.parametrize(("work_date", "deadline"), [
    (date(2025, 4, 10), jst(2025, 6, 1)),  # the end of May
    (date(2024, 11, 30), jst(2025, 1, 1)),  # across the year end
    (date(2024, 1, 31), jst(2024, 3, 1)),  # leap year: the end of 29 February
    (date(2025, 1, 31), jst(2025, 3, 1)),  # … and 28 February
])
def test_a_pending_entry_expires_at_the_end_of_the_following_month(
    world: World, work_date: date, deadline: datetime
) -> None:
    entry = request(world, work_date, datetime.combine(work_date, datetime.min.time(),
                                                       deadline.tzinfo) + timedelta(hours=20))

    world.clock.at = deadline - timedelta(seconds=1)
    assert expire_entries(world.ledger, world.store, SYSTEM)["expired"] == 0
    assert status(world, entry) is RequestStatus.PENDING

    world.clock.at = deadline
    counts = expire_entries(world.ledger, world.store, SYSTEM)
    assert counts["expired"] == 1
    assert status(world, entry) is RequestStatus.EXPIRED
    with pytest.raises(InvalidState) as refused:
        world.ledger.approve(entry, PRIME_STAFF)
    assert refused.value.rule == "decision.pending"


def test_decided_and_recent_entries_are_left_alone_and_a_rerun_expires_nothing(
    world: World,
) -> None:
    approved = request(world, date(2025, 4, 10), jst(2025, 4, 11, 9))
    world.ledger.approve(approved, PRIME_STAFF)
    overdue = request(world, date(2025, 4, 11), jst(2025, 4, 12, 9))
    world.clock.at = jst(2025, 4, 13, 9)
    correction = world.ledger.request_correction(
        T1, SITE, date(2025, 4, 12), SUB, {"trade": "型枠"}, "wrong trade", SUB_ADMIN)
    recent = request(world, date(2025, 5, 2), jst(2025, 5, 3, 9))

    world.clock.at = jst(2025, 6, 1, 2, 30)
    assert expire_entries(world.ledger, world.store, SYSTEM) == {
        "pending_overdue": 2, "expired": 2, "already_decided": 0}
    assert expire_entries(world.ledger, world.store, SYSTEM)["expired"] == 0

    assert [status(world, r) for r in (approved, overdue, correction, recent)] == [
        RequestStatus.APPROVED, RequestStatus.EXPIRED, RequestStatus.EXPIRED,
        RequestStatus.PENDING]
    world.catch_up()
    with world.store.read() as tx:
        rows = tx.execute("SELECT status, decided_by FROM {requests} WHERE request_id = %s",
                          [str(overdue)])
    assert rows == [("expired", "system:ledger")]
