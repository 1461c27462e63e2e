"""The uploader against a scripted ledger: nothing leaves the queue before it is acknowledged."""

import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ledger.clock import JST, FixedClock
from ledger.domain.registry import DirectionMode
from readers.backoff import Backoff
from readers.delivery import TapResult, UploadAck
from readers.identity import CardIdentity
from readers.spool import DEAD, DELIVERED, Spool, SpooledTap
from readers.transport import BatchRefused, TransportUnauthorized, TransportUnavailable
from readers.uploader import Uploader
from tests.readers_support.fakes import RecordingFeedback, ScriptedLedger, accept_all

AT = datetime(2025, 6, 2, 7, 58, tzinfo=JST)


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    spool = Spool(tmp_path / "spool.db", "R1", first_sequence=1)
    spool.record_all([(CardIdentity(card_id=f"0400{n:04X}"), AT) for n in range(10)],
                     DirectionMode.AUTO, timedelta(seconds=10))
    return spool


def uploader(spool: Spool, ledger: ScriptedLedger, **options: object) -> Uploader:
    options.setdefault("backoff", Backoff(base=0.001, cap=0.002))
    return Uploader(spool, ledger, clock=FixedClock(AT), **options)  # type: ignore[arg-type]


def test_taps_go_out_in_batches_oldest_first_and_leave_the_queue_when_acknowledged(
    spool: Spool,
) -> None:
    ledger = ScriptedLedger()
    uploader(spool, ledger, batch_size=4).run(until_drained=True)
    assert ledger.batches == [[f"R1:{n}" for n in range(1, 5)], [f"R1:{n}" for n in range(5, 9)],
                              ["R1:9", "R1:10"]]
    assert len(spool.taps(DELIVERED)) == 10 and spool.status().pending == 0


def test_an_unreachable_ledger_leaves_every_tap_queued(spool: Spool) -> None:
    ledger = ScriptedLedger(TransportUnavailable("connection refused"))
    with pytest.raises(TransportUnavailable):
        uploader(spool, ledger).upload_once()
    assert spool.status().pending == 10


def test_retries_with_backoff_until_the_ledger_is_back_then_delivers_once(spool: Spool) -> None:
    ledger = ScriptedLedger(*[TransportUnavailable("down")] * 3)
    up = uploader(spool, ledger, batch_size=1000)
    up.run(until_drained=True)
    assert len(ledger.batches) == 4  # three failures, one success
    assert len(ledger.stored) == 10 and spool.status().pending == 0
    assert spool.status().last_error == "ledger unreachable: down"
    assert up.backoff.failures == 0  # reset after the success


def test_a_lost_acknowledgement_is_resent_and_the_duplicate_counts_as_delivered(
    spool: Spool,
) -> None:
    ledger = ScriptedLedger()

    def stored_then_connection_lost(taps: Sequence[SpooledTap]) -> UploadAck:
        ledger.stored.update({t.tap_id: 0 for t in taps})  # the ledger committed the batch …
        raise TransportUnavailable("connection reset")  # … but the answer never arrived

    ledger.steps = [stored_then_connection_lost]  # type: ignore[list-item]
    uploader(spool, ledger).run(until_drained=True)
    assert spool.status().pending == 0
    statuses = {t.tap_id for t in spool.taps(DELIVERED)}
    assert statuses == set(ledger.stored) and len(ledger.batches) == 2


def test_unauthorized_is_logged_loudly_and_retried_slowly(
    spool: Spool, caplog: pytest.LogCaptureFixture,
) -> None:
    ledger = ScriptedLedger(TransportUnauthorized("HTTP 401 bad token"))
    up = uploader(spool, ledger, unauthorized_delay=0.001)
    with caplog.at_level(logging.ERROR):
        up.run(until_drained=True)
    assert any("UNAUTHORIZED" in r.message and r.levelno == logging.ERROR for r in caplog.records)
    assert up.backoff.failures == 0 and spool.status().pending == 0


def test_a_refused_batch_is_split_until_the_malformed_tap_is_alone_and_dead_lettered(
    spool: Spool,
) -> None:
    ledger = ScriptedLedger()

    def refuse_if_contains_r1_7(taps: Sequence[SpooledTap]) -> UploadAck:
        if any(t.tap_id == "R1:7" for t in taps):
            raise BatchRefused("HTTP 422 tap 7 malformed")
        return accept_all(ledger)(taps)

    ledger.steps = [refuse_if_contains_r1_7] * 20  # type: ignore[list-item]
    uploader(spool, ledger).run(until_drained=True)
    assert [t.tap_id for t in spool.taps(DEAD)] == ["R1:7"]
    assert len(spool.taps(DELIVERED)) == 9 and "R1:7" not in ledger.stored


def test_clock_skew_is_measured_against_the_middle_of_the_round_trip_and_flagged(
    spool: Spool, caplog: pytest.LogCaptureFixture,
) -> None:
    def server_two_minutes_ahead(taps: Sequence[SpooledTap]) -> UploadAck:
        return UploadAck([TapResult(t.tap_id, "accepted") for t in taps],
                         server_time=AT + timedelta(minutes=2))

    with caplog.at_level(logging.WARNING):
        uploader(spool, ScriptedLedger(server_two_minutes_ahead)).upload_once()
    assert spool.status().clock_offset_seconds == -120.0
    assert any("CLOCK SKEW" in r.message for r in caplog.records)


def test_taps_the_ledger_did_not_answer_for_stay_queued(spool: Spool) -> None:
    def answers_only_the_first(taps: Sequence[SpooledTap]) -> UploadAck:
        return UploadAck([TapResult(taps[0].tap_id, "accepted")])

    settled = uploader(spool, ScriptedLedger(answers_only_the_first)).upload_once()
    assert settled == 1 and spool.status().pending == 9


def test_an_answer_acknowledging_nothing_is_a_failure_not_a_busy_loop(spool: Spool) -> None:
    def answers_nothing(taps: Sequence[SpooledTap]) -> UploadAck:
        return UploadAck([])

    with pytest.raises(TransportUnavailable, match="acknowledged none"):
        uploader(spool, ScriptedLedger(answers_nothing)).upload_once()


def test_the_background_thread_wakes_for_a_new_tap_and_stops_on_request(spool: Spool) -> None:
    ledger = ScriptedLedger()
    delivered = threading.Event()

    class Watching(ScriptedLedger):
        def send(self, taps: Sequence[SpooledTap]) -> UploadAck:
            ack = ledger.send(taps)
            if "R1:11" in ledger.stored:
                delivered.set()
            return ack

    up = uploader(spool, Watching(), idle_wait=3600)  # only the wakeup can start a new round
    up.start()
    try:
        spool.record(CardIdentity(card_id="04BEEF00"), AT, DirectionMode.AUTO, timedelta(0))
        up.wakeup.set()
        assert delivered.wait(timeout=30)
    finally:
        up.stop(timeout=30)
    assert up._thread is not None and not up._thread.is_alive()


def test_a_batch_size_beyond_the_contract_is_refused(spool: Spool) -> None:
    # The contract's limit is the API's (MAX_TAPS, 5,000 taps a request).
    with pytest.raises(ValueError, match="batch size 5001 is not 1-5000"):
        Uploader(spool, ScriptedLedger(), batch_size=5001)


def test_taps_delivered_longer_ago_than_the_retention_are_forgotten_hourly(spool: Spool) -> None:
    clock = FixedClock(AT)
    up = Uploader(spool, ScriptedLedger(), clock=clock, keep_delivered=timedelta(days=7))
    up.run(until_drained=True)  # the ten taps are delivered at AT
    waiting = spool.record(CardIdentity(card_id="04BEEF00"), AT, DirectionMode.AUTO, timedelta(0))
    clock.advance(timedelta(days=7) - timedelta(minutes=30))
    assert up.prune() == 0  # delivered less than a week ago
    clock.advance(timedelta(minutes=31))
    assert up.prune() == 0  # a week now, but the last prune was within the hour
    clock.advance(timedelta(minutes=30))
    assert up.prune() == 10
    assert waiting is not None and spool.taps() == [waiting]  # pending taps always stay


def test_a_retention_shorter_than_two_days_is_refused(spool: Spool) -> None:
    with pytest.raises(ValueError, match="less than 2 days"):
        Uploader(spool, ScriptedLedger(), keep_delivered=timedelta(hours=12))


def test_a_tap_the_gate_check_flagged_is_delivered_and_the_worker_is_warned(
    spool: Spool,
) -> None:
    """Entry checks flag a stored tap: it leaves the queue like any, and the gate sounds a
    warning with the reasons; a reader's own trouble (its clock) warns nobody at the gate."""
    def flagged(taps: Sequence[SpooledTap]) -> UploadAck:
        flags = [("not_on_roster", "insurance_unconfirmed"), ("clock_skew",),
                 ("qualification_expired",)]
        return UploadAck([TapResult(t.tap_id, "flagged" if n < 3 else "accepted",
                                    flags[n] if n < 3 else (), position=n + 1)
                          for n, t in enumerate(taps)])

    feedback = RecordingFeedback()
    uploader(spool, ScriptedLedger(flagged), feedback=feedback).run(until_drained=True)
    assert spool.status().pending == 0
    assert feedback.warnings == [
        ("R1:1", ["作業員名簿に未登録 not on the site's roster",
                  "社会保険 未確認 social insurance not confirmed"]),
        ("R1:3", ["資格期限切れ required qualification expired"])]
