"""The write side on real storage: SQLite and PostgreSQL, each plain and encrypted."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import cast

import pytest

from ledger import clock
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.requests import RequestStatus
from ledger.domain.taps import TapObservation
from ledger.errors import (
    AlreadyExists,
    DeadlinePassed,
    InvalidState,
    NotPermitted,
    UnknownReference,
)
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from tests.integration.world import (
    ADMIN,
    EMPLOYER_ADMIN,
    OTHER,
    PRIME_STAFF,
    SITE,
    SUB,
    TECHNICIAN,
    WORKER_SELF,
    register_world,
)


@pytest.fixture
def settings(database_url: str, cipher_key: str | None) -> Settings:
    settings = Settings(database_url=database_url, cipher_key=cipher_key)
    migrate(settings)
    return settings


@pytest.fixture
def world(ledger: Ledger, now: clock.FixedClock) -> Iterator[Ledger]:
    register_world(ledger)
    yield ledger


def taps(reader: str, first: int, count: int) -> list[TapObservation]:
    at = datetime(2025, 6, 20, 7, 50, tzinfo=JST)
    return [
        TapObservation(f"{reader}:{n}", reader, "in", at + timedelta(seconds=n), card_id=f"{n:08X}")
        for n in range(first, first + count)
    ]


def stored_tap_count(ledger: Ledger) -> int:
    return sum(type(e).__qualname__ == "Tap.Recorded" for _, e in ledger.iter_log())


class TestTapsAreStoredExactlyOnce:
    def test_the_same_batch_twice_stores_nothing_new(self, ledger: Ledger) -> None:
        first = ledger.record_taps(taps("GATE-1", 1, 50), ADMIN)
        again = ledger.record_taps(taps("GATE-1", 1, 50), ADMIN)
        assert [r.status for r in first] == ["accepted"] * 50
        assert [r.status for r in again] == ["duplicate"] * 50
        assert stored_tap_count(ledger) == 50

    def test_a_batch_with_duplicates_still_stores_the_rest(self, ledger: Ledger) -> None:
        ledger.record_taps(taps("GATE-1", 1, 10), ADMIN)
        batch = taps("GATE-1", 6, 10) + taps("GATE-1", 12, 1)  # 6-10 stored, 12 repeated
        statuses = [r.status for r in ledger.record_taps(batch, ADMIN)]
        assert statuses == ["duplicate"] * 5 + ["accepted"] * 5 + ["duplicate"]
        assert stored_tap_count(ledger) == 15

    def test_concurrent_duplicate_uploads_from_two_threads(self, ledger: Ledger) -> None:
        batch = taps("GATE-1", 1, 2000)
        receipts: list[str] = []
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def upload() -> None:
            try:
                start.wait()
                for i in range(0, len(batch), 250):
                    receipts.extend(r.status for r in ledger.record_taps(batch[i : i + 250], ADMIN))
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=upload) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert Counter(receipts) == {"accepted": 2000, "duplicate": 2000}
        assert stored_tap_count(ledger) == 2000

    def test_a_resend_with_other_content_is_a_conflict_stored_once(self, ledger: Ledger) -> None:
        """Plain and encrypted: the stored version's content is read back to compare."""
        [stored] = ledger.record_taps(taps("GATE-1", 1, 1), ADMIN)
        other = replace(taps("GATE-1", 1, 1)[0], card_id="0FFFFFFF")
        padded = replace(other, tap_id="GATE-1:0001")  # the same tap ID, written otherwise
        receipts = ledger.record_taps([taps("GATE-1", 1, 1)[0], other, padded], ADMIN)
        assert [r.status for r in receipts] == ["duplicate", "conflict", "duplicate"]
        conflict = receipts[1]
        assert conflict.position == ledger.log_position() > cast(int, stored.position)
        assert conflict.stored_content_hash == taps("GATE-1", 1, 1)[0].content_hash
        assert conflict.content_hash == other.content_hash != conflict.stored_content_hash
        assert [r.status for r in ledger.record_taps([other], ADMIN)] == ["duplicate"]
        assert stored_tap_count(ledger) == 1
        assert sum(type(e).__qualname__ == "Tap.ConflictingObservation"
                   for _, e in ledger.iter_log()) == 1

    def test_accepted_taps_report_their_log_position(self, ledger: Ledger) -> None:
        receipts = ledger.record_taps(taps("GATE-1", 1, 3), ADMIN)
        positions = [r.position for r in receipts]
        assert positions == sorted(positions) and ledger.log_position() == positions[-1]


class TestManualEntryLifeCycle:
    def test_requested_then_approved_by_the_prime(self, world: Ledger) -> None:
        entry_id = world.request_manual_entry(
            TECHNICIAN, SITE, date(2025, 6, 19), SUB, "鉄筋", "一般", "配筋", WORKER_SELF
        )
        world.approve(entry_id, PRIME_STAFF)
        entry = world.request(entry_id)
        assert entry.status is RequestStatus.APPROVED
        assert entry.prime_business_id == "100"

    def test_a_wrong_party_is_refused_and_nothing_is_written(self, world: Ledger) -> None:
        entry_id = world.request_manual_entry(
            TECHNICIAN, SITE, date(2025, 6, 19), SUB, "鉄筋", "一般", "配筋", EMPLOYER_ADMIN
        )
        before = world.log_position()
        with pytest.raises(NotPermitted):
            world.approve(entry_id, EMPLOYER_ADMIN)
        with pytest.raises(NotPermitted):
            world.request_manual_entry(
                TECHNICIAN, SITE, date(2025, 6, 19), SUB, "鉄筋", "一般", "配筋", PRIME_STAFF
            )
        assert world.log_position() == before
        assert world.request(entry_id).status is RequestStatus.PENDING

    @pytest.mark.parametrize(
        ("work_date", "last_moment"),
        [
            (date(2025, 5, 31), datetime(2025, 6, 30, 23, 59, 59, tzinfo=JST)),  # month end
            (date(2024, 12, 31), datetime(2025, 1, 31, 23, 59, 59, tzinfo=JST)),  # year end
            (date(2024, 1, 31), datetime(2024, 2, 29, 23, 59, 59, tzinfo=JST)),  # leap February
        ],
        ids=["month", "year", "leap-year"],
    )
    def test_deadlines_across_boundaries(
        self, world: Ledger, now: clock.FixedClock, work_date: date, last_moment: datetime
    ) -> None:
        now.at = datetime.combine(work_date, datetime.min.time(), JST) + timedelta(hours=20)
        on_time = world.request_manual_entry(
            TECHNICIAN, SITE, work_date, SUB, "鉄筋", "一般", "配筋", WORKER_SELF
        )
        late = world.request_manual_entry(
            TECHNICIAN, SITE, work_date, SUB, "鉄筋", "一般", "配筋", WORKER_SELF
        )
        now.at = last_moment
        world.approve(on_time, PRIME_STAFF)
        now.advance(timedelta(seconds=1))
        with pytest.raises(DeadlinePassed):
            world.approve(late, PRIME_STAFF)
        with pytest.raises(DeadlinePassed):
            world.request_manual_entry(
                TECHNICIAN, SITE, work_date, SUB, "鉄筋", "一般", "配筋", WORKER_SELF
            )
        world.expire(late, ADMIN)
        assert world.request(on_time).status is RequestStatus.APPROVED
        assert world.request(late).status is RequestStatus.EXPIRED

    def test_a_rejected_entry_stays_in_the_log_with_its_reason(self, world: Ledger) -> None:
        entry_id = world.request_manual_entry(
            TECHNICIAN, SITE, date(2025, 6, 19), SUB, "鉄筋", "一般", "配筋", WORKER_SELF
        )
        world.reject(entry_id, "not on the gate camera", PRIME_STAFF)
        with pytest.raises(InvalidState):
            world.approve(entry_id, PRIME_STAFF)
        events = [e for _, e in world.iter_log() if getattr(e, "originator_id", None) == entry_id]
        assert [type(e).__name__ for e in events] == ["Requested", "Rejected"]
        assert events[1].reason == "not on the gate camera"  # type: ignore[attr-defined]


def test_a_correction_waits_for_the_prime(world: Ledger) -> None:
    correction_id = world.request_correction(
        TECHNICIAN,
        SITE,
        date(2025, 6, 19),
        SUB,
        {"position": "職長"},
        "was foreman",
        EMPLOYER_ADMIN,
    )
    assert world.request(correction_id).status is RequestStatus.PENDING
    world.approve(correction_id, PRIME_STAFF)
    assert world.request(correction_id).status is RequestStatus.APPROVED


def test_unknown_references_are_refused_and_nothing_is_written(world: Ledger) -> None:
    before = world.log_position()
    with pytest.raises(UnknownReference, match="business_id"):
        world.join_employer(TECHNICIAN, "999", date(2025, 1, 1), False, ADMIN)
    with pytest.raises(UnknownReference, match="technician_id"):
        world.issue_card("0A0B0C0D", "99999999999999", ADMIN)
    with pytest.raises(UnknownReference, match="site_id"):
        world.register_reader("GATE-9", "99999999999999", "in", ADMIN)
    with pytest.raises(AlreadyExists, match="business_id"):
        world.register_business(OTHER, "again", ADMIN)
    assert world.log_position() == before


def test_registrations_are_read_back_from_the_log(world: Ledger) -> None:
    site = world.site(SITE)
    assert site.roster[TECHNICIAN].trade == "鉄筋" and site.tier_of(SUB) == 1
    assert world.worker(TECHNICIAN).primary_employer == SUB
    assert world.card("04A1B2C3").technician_id == TECHNICIAN


def test_payloads_are_encrypted_at_rest_when_a_key_is_set(
    world: Ledger, settings: Settings
) -> None:
    worker = world.worker(TECHNICIAN)
    stored = world.recorder.select_events(worker.id)[0].state
    assert ("山田".encode() in stored) is (settings.cipher_key is None)
