"""The spool: durable, restart-proof sequences, debounce and auto direction, settlement."""

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ledger.clock import JST, FixedClock
from ledger.domain.registry import DirectionMode
from ledger.domain.taps import Direction
from readers.delivery import TapResult
from readers.identity import CardIdentity
from readers.spool import DEAD, DELIVERED, PENDING, Spool, SpoolError

AT = datetime(2025, 6, 2, 7, 58, tzinfo=JST)
CARD = CardIdentity(card_id="04A1B2C3")
OTHER = CardIdentity(card_id="04FFFFFF")
WORKER = CardIdentity(technician_id="12345678901234")
AUTO, WINDOW = DirectionMode.AUTO, timedelta(seconds=10)


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool.db", "R1", first_sequence=1)


def test_the_spool_is_wal_with_full_sync(spool: Spool) -> None:
    assert spool._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert spool._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_tap_ids_are_reader_and_a_sequence_that_survives_a_restart(tmp_path: Path) -> None:
    first = Spool(tmp_path / "s.db", "R1", first_sequence=41)
    taps = [first.record(CARD, AT, AUTO, WINDOW), first.record(OTHER, AT, AUTO, WINDOW)]
    first.close()
    again = Spool(tmp_path / "s.db", "R1", first_sequence=1)  # ignored: the spool has one
    tap = again.record(WORKER, AT, AUTO, WINDOW)
    assert [t.tap_id for t in taps if t] == ["R1:41", "R1:42"]
    assert tap is not None and tap.tap_id == "R1:43"


def test_a_new_spool_starts_its_sequence_at_the_clock_so_a_replacement_never_reuses_ids(
    tmp_path: Path,
) -> None:
    clock = FixedClock(datetime(2025, 6, 2, 0, 0, tzinfo=JST))
    spool = Spool(tmp_path / "new.db", "R1", clock=clock)
    tap = spool.record(CARD, AT, AUTO, WINDOW)
    assert tap is not None and tap.sequence == int(clock.at.timestamp() * 1_000_000)


def test_a_committed_tap_is_visible_to_another_connection_at_once(spool: Spool) -> None:
    tap = spool.record(CARD, AT, AUTO, WINDOW)
    assert tap is not None
    with sqlite3.connect(spool.path) as other:
        rows = other.execute("SELECT tap_id, card_id, direction, state FROM taps").fetchall()
    assert rows == [("R1:1", "04A1B2C3", "in", PENDING)]


def test_the_spool_of_another_reader_is_refused(spool: Spool) -> None:
    spool.close()
    with pytest.raises(SpoolError, match="is the spool of reader R1, not R2"):
        Spool(spool.path, "R2")


def test_open_existing_never_creates_a_spool(tmp_path: Path) -> None:
    with pytest.raises(SpoolError, match="no spool at"):
        Spool.open_existing(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
    (tmp_path / "junk.db").write_bytes(b"not a database at all, just junk" * 100)
    with pytest.raises(SpoolError, match="is not a reader spool"):
        Spool.open_existing(tmp_path / "junk.db")


def test_the_same_card_within_the_debounce_window_is_one_tap(spool: Spool) -> None:
    assert spool.record(CARD, AT, AUTO, WINDOW) is not None
    assert spool.record(CARD, AT + timedelta(seconds=3), AUTO, WINDOW) is None
    assert spool.record(OTHER, AT + timedelta(seconds=3), AUTO, WINDOW) is not None
    assert spool.record(CARD, AT + timedelta(seconds=11), AUTO, WINDOW) is not None
    assert len(spool.taps()) == 3


def test_debounce_holds_across_a_restart(spool: Spool) -> None:
    spool.record(CARD, AT, AUTO, WINDOW)
    spool.close()
    again = Spool(spool.path, "R1")
    assert again.record(CARD, AT + timedelta(seconds=2), AUTO, WINDOW) is None


def test_auto_alternates_per_worker_and_starts_again_each_jst_day(spool: Spool) -> None:
    late = datetime(2025, 6, 2, 23, 59, tzinfo=JST)
    next_day = datetime(2025, 6, 3, 0, 1, tzinfo=JST)
    times = [AT, AT + timedelta(hours=9), late]
    directions = [spool.record(CARD, t, AUTO, WINDOW) for t in times]
    other = spool.record(OTHER, AT + timedelta(minutes=1), AUTO, WINDOW)
    tomorrow = spool.record(CARD, next_day, AUTO, WINDOW)  # 00:01 JST on 3 June
    assert [t.direction for t in directions if t] == [Direction.IN, Direction.OUT, Direction.IN]
    assert other is not None and other.direction is Direction.IN
    assert tomorrow is not None and tomorrow.direction is Direction.IN


def test_the_jst_date_decides_not_the_utc_date(spool: Spool) -> None:
    # 23:30 UTC on 1 June is 08:30 JST on 2 June: the same work date as 17:30 JST on 2 June.
    morning = datetime.fromisoformat("2025-06-01T23:30:00+00:00")
    evening = datetime.fromisoformat("2025-06-02T17:30:00+09:00")
    first = spool.record(CARD, morning, AUTO, WINDOW)
    second = spool.record(CARD, evening, AUTO, WINDOW)
    assert first is not None and first.reader_time.isoformat() == "2025-06-02T08:30:00+09:00"
    assert second is not None and second.direction is Direction.OUT


def test_fixed_direction_modes(spool: Spool) -> None:
    tap_in = spool.record(CARD, AT, DirectionMode.IN, WINDOW)
    tap_out = spool.record(OTHER, AT, DirectionMode.OUT, WINDOW)
    assert tap_in is not None and tap_in.direction is Direction.IN
    assert tap_out is not None and tap_out.direction is Direction.OUT


def test_a_naive_reader_time_is_refused(spool: Spool) -> None:
    with pytest.raises(ValueError, match="reader_time"):
        spool.record(CARD, datetime(2025, 6, 2, 7, 58), AUTO, WINDOW)
    assert spool.taps() == []


def test_pending_is_oldest_first_and_limited(spool: Spool) -> None:
    for n in range(5):
        spool.record(CardIdentity(card_id=f"0400{n:04X}"), AT, AUTO, WINDOW)
    assert [t.tap_id for t in spool.pending(3)] == ["R1:1", "R1:2", "R1:3"]


def test_settle_delivers_accepted_duplicate_and_flagged_and_dead_letters_rejected(
    spool: Spool,
) -> None:
    for n in range(5):
        spool.record(CardIdentity(card_id=f"0400{n:04X}"), AT, AUTO, WINDOW)
    settled = spool.settle([
        TapResult("R1:1", "accepted", position=7), TapResult("R1:2", "duplicate"),
        TapResult("R1:3", "flagged", flags=("unknown_card",), position=8),
        TapResult("R1:4", "rejected", reason="card_id: not hex"),
        TapResult("R2:5", "accepted"),  # not ours: ignored
        TapResult("R1:5", "pondering"),  # an unknown status: stays pending
    ], AT, clock_offset_seconds=-1.5)
    assert (settled.delivered, settled.dead) == (3, 1)
    assert [t.tap_id for t in spool.taps(DELIVERED)] == ["R1:1", "R1:2", "R1:3"]
    assert [(t.tap_id, reason) for t, reason in spool.dead_letters()] == [
        ("R1:4", "card_id: not hex")]
    status = spool.status()
    assert (status.pending, status.delivered, status.dead) == (1, 3, 1)
    assert status.oldest_pending is not None and status.oldest_pending.tap_id == "R1:5"
    assert status.last_upload_at == AT and status.clock_offset_seconds == -1.5


def test_settling_twice_changes_nothing(spool: Spool) -> None:
    spool.record(CARD, AT, AUTO, WINDOW)
    spool.settle([TapResult("R1:1", "accepted", position=3)], AT)
    again = spool.settle([TapResult("R1:1", "rejected", reason="late")], AT)
    assert (again.delivered, again.dead) == (0, 0)
    assert spool.taps(DELIVERED)[0].tap_id == "R1:1"


def test_dead_letters_can_be_queued_again(spool: Spool) -> None:
    spool.record(CARD, AT, AUTO, WINDOW)
    spool.settle([TapResult("R1:1", "rejected", reason="bad")], AT)
    assert spool.requeue_dead() == 1
    assert [t.tap_id for t in spool.pending(10)] == ["R1:1"] and spool.taps(DEAD) == []


def test_pruning_forgets_only_taps_delivered_before_the_cutoff(spool: Spool) -> None:
    for card in (CARD, OTHER, WORKER):
        spool.record(card, AT, AUTO, WINDOW)
    spool.settle([TapResult("R1:1", "accepted")], AT + timedelta(days=1))
    spool.settle([TapResult("R1:2", "accepted")], AT + timedelta(days=3))
    cutoff = datetime.fromisoformat("2025-06-04T00:00:00+00:00")  # 09:00 JST on 4 June
    assert spool.prune_delivered(settled_before=cutoff) == 1
    assert [t.tap_id for t in spool.taps()] == ["R1:2", "R1:3"]  # R1:3 is still pending
    assert spool.status().next_sequence == 4


def test_record_all_stores_a_backlog_in_one_transaction(spool: Spool) -> None:
    taps = spool.record_all([(CARD, AT), (CARD, AT + timedelta(seconds=1)), (OTHER, AT)],
                            AUTO, WINDOW)
    assert [t.tap_id for t in taps] == ["R1:1", "R1:2"]  # the repeat is not a tap


def test_a_failed_upload_is_noted_for_status(spool: Spool) -> None:
    spool.note_failure("ledger unreachable: connection refused", AT)
    status = spool.status()
    assert status.last_error == "ledger unreachable: connection refused"
    assert status.last_error_at == AT and status.last_upload_at is None
