"""The background uploader: sends spooled taps in batches until the ledger acknowledged them.

A tap leaves the queue only after the ledger said it is stored (accepted, flagged, a
duplicate of one stored before, or a conflict: stored as another version of its tap ID). A
crash at any point leaves it queued, and sending it again is harmless: its ID is fixed in the
spool, so the ledger answers "duplicate". That is exactly-once
delivery built from at-least-once sending plus idempotent storage.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from ledger.clock import Clock, SystemClock
from readers.backoff import Backoff
from readers.delivery import TapResult, UploadAck
from readers.feedback import Feedback, gate_warnings
from readers.spool import Spool, SpooledTap
from readers.transport import (
    MAX_BATCH,
    BatchRefused,
    Transport,
    TransportUnauthorized,
    TransportUnavailable,
)

log = logging.getLogger(__name__)
SKEW_TOLERANCE = timedelta(seconds=30)  # beyond this a reader's clock is flagged
KEEP_DELIVERED = timedelta(days=7)  # delivered taps kept for `status` and forensics
PRUNE_EVERY = timedelta(hours=1)


class Uploader:
    def __init__(
        self, spool: Spool, transport: Transport, *, batch_size: int = MAX_BATCH,
        backoff: Backoff | None = None, unauthorized_delay: float = 60.0,
        skew_tolerance: timedelta = SKEW_TOLERANCE, idle_wait: float = 5.0,
        keep_delivered: timedelta = KEEP_DELIVERED, clock: Clock | None = None,
        feedback: Feedback | None = None,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch size {batch_size} is not 1-{MAX_BATCH}")
        self.spool, self.transport, self.batch_size = spool, transport, batch_size
        self.backoff = backoff or Backoff()
        self.unauthorized_delay, self.skew_tolerance = unauthorized_delay, skew_tolerance
        self.idle_wait = idle_wait
        if keep_delivered < timedelta(days=2):  # today's taps drive debounce and auto direction
            raise ValueError(f"keeping delivered taps {keep_delivered} is less than 2 days")
        self.keep_delivered = keep_delivered
        self._pruned_at: datetime | None = None
        self.clock = clock or SystemClock()
        self.feedback = feedback  # told of a stored tap the gate check flagged
        self.wakeup = threading.Event()  # set when a tap is spooled, so it goes out at once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one batch -----------------------------------------------------------------------------
    def upload_once(self) -> int:
        """Send the oldest pending batch; return how many taps it settled (0: queue empty).
        Transport errors propagate; the taps stay pending."""
        taps = self.spool.pending(self.batch_size)
        return self._deliver(taps) if taps else 0

    def _deliver(self, taps: Sequence[SpooledTap]) -> int:
        sent_at = self.clock.now()
        try:
            ack = self.transport.send(taps)
        except BatchRefused as error:
            if len(taps) > 1:  # halve until the malformed taps are alone
                middle = len(taps) // 2
                return self._deliver(taps[:middle]) + self._deliver(taps[middle:])
            ack = UploadAck([TapResult(taps[0].tap_id, "rejected", reason=str(error))])
        received_at = self.clock.now()
        offset = self._clock_offset(ack, sent_at, received_at)
        settled = self.spool.settle(ack.results, received_at, offset)
        for result in ack.results:
            if result.rejected:
                log.error("tap %s rejected by the ledger, moved to dead letters: %s",
                          result.tap_id, result.reason)
            elif result.status == "flagged" and self.feedback is not None and (
                    warnings := gate_warnings(result.flags)):
                self.feedback.warned(result.tap_id, warnings)
            elif result.conflict:
                log.error("CONFLICT: tap %s was stored before with other content; the ledger "
                          "kept this version too, for the site's staff to resolve (was a spool "
                          "replaced, reusing sequence numbers?)", result.tap_id)
        unsettled = len(taps) - settled.delivered - settled.dead
        if unsettled:
            log.warning("%d of %d taps were not acknowledged; they stay queued", unsettled,
                        len(taps))
        if settled.delivered + settled.dead == 0:
            raise TransportUnavailable("the ledger acknowledged none of the batch")
        return settled.delivered + settled.dead

    def _clock_offset(
        self, ack: UploadAck, sent_at: datetime, received_at: datetime
    ) -> float | None:
        """Seconds the reader's clock is ahead of the ledger's (negative: behind), measured
        against the middle of the round trip, so it is right to within half the round trip."""
        if ack.server_time is None:
            return None
        offset = (sent_at + (received_at - sent_at) / 2 - ack.server_time).total_seconds()
        if abs(offset) > self.skew_tolerance.total_seconds():
            log.warning("CLOCK SKEW: the reader's clock is %+.1f s off the ledger's (tolerance "
                        "%.0f s); taps carry the reader's time, so fix the clock (NTP)",
                        offset, self.skew_tolerance.total_seconds())
        return offset

    # -- the loop ------------------------------------------------------------------------------
    def run(self, until_drained: bool = False) -> None:
        """Upload until :meth:`stop` (or, with ``until_drained``, until the queue is empty)."""
        while not self._stop.is_set():
            self.wakeup.clear()  # before looking, so a tap spooled meanwhile is not missed
            try:
                sent = self.upload_once()
            except TransportUnauthorized as error:
                self._failed(f"UNAUTHORIZED: {error}", logging.ERROR)
                self._stop.wait(self.unauthorized_delay)
                continue
            except TransportUnavailable as error:
                self._failed(f"ledger unreachable: {error}", logging.WARNING)
                self._stop.wait(self.backoff.next_delay())
                continue
            except Exception as error:  # the uploader must outlive any one bad batch
                log.exception("upload failed unexpectedly")
                self._failed(f"unexpected: {error!r}", logging.ERROR)
                self._stop.wait(self.backoff.next_delay())
                continue
            self.backoff.reset()
            if sent == 0:
                self.prune()
                if until_drained:
                    return
                self.wakeup.wait(self.idle_wait)

    def prune(self) -> int:
        """Forget taps delivered more than ``keep_delivered`` ago (at most hourly), so a spool
        stays small on a reader that runs for years; pending and dead-lettered taps stay."""
        now = self.clock.now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return 0
        self._pruned_at = now
        forgotten = self.spool.prune_delivered(settled_before=now - self.keep_delivered)
        if forgotten:
            log.info("forgot %d delivered taps older than %s", forgotten, self.keep_delivered)
        return forgotten

    def _failed(self, message: str, level: int) -> None:
        log.log(level, "%s; %d taps wait in the spool", message, self.spool.status().pending)
        try:
            self.spool.note_failure(message, self.clock.now())
        except Exception:  # a note must not stop retries
            log.exception("could not note the failure in the spool")

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="uploader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        self._stop.set()
        self.wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)
