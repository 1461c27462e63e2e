"""Tap intake: each tap is checked on its own, the good ones are stored in one transaction, and
the answer says, tap by tap, what became of it (`projections.tap_answers`, which the reader
agent's in-process transport answers through as well)."""

from __future__ import annotations

from collections.abc import Sequence

from api.schemas.taps import TapResult
from ledger.application import Ledger, TapReceipt
from projections.tap_answers import Rejected, TapAnswer, check_reader_taps, parse_tap

__all__ = ["Rejected", "check_reader_taps", "parse_tap", "position_after", "tap_results"]


def position_after(ledger: Ledger, receipts: Sequence[TapReceipt]) -> int:
    """The log position to wait for to read this batch: that of its last stored tap, which was
    the log's head when the batch committed (the tap insert's table lock orders commits as
    positions); the log's head when nothing in the batch was new."""
    stored = [receipt.position for receipt in receipts if receipt.position is not None]
    return max(stored) if stored else ledger.log_position()


def tap_results(answers: Sequence[TapAnswer]) -> list[TapResult]:
    return [TapResult(tap_id=a.tap_id, status=a.status, flags=list(a.flags),  # type: ignore[arg-type]
                      reason=a.reason, position=a.position, content_hash=a.content_hash,
                      stored_content_hash=a.stored_content_hash) for a in answers]
