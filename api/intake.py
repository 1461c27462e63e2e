"""Tap intake: each tap is checked on its own, the good ones are stored in one transaction, and
the answer says, tap by tap, what became of it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from api.reader_directory import ReaderDirectory
from api.schemas.taps import NOT_AN_OBJECT, TapIn, TapResult
from ledger.actors import Actor
from ledger.application import TapReceipt
from ledger.domain.taps import TapObservation
from ledger.errors import LedgerError, NotPermitted
from ledger.tap_records import observation_from_mapping


@dataclass(frozen=True)
class Rejected:
    tap_id: str | None
    reason: str


def parse_tap(tap: TapIn) -> TapObservation | Rejected:
    record = tap.model_dump()
    sent_id = record.get("tap_id")
    tap_id = sent_id if isinstance(sent_id, str) else None
    if NOT_AN_OBJECT in record:
        return Rejected(None, "tap: is not a JSON object")
    try:
        return observation_from_mapping(record)
    except LedgerError as error:
        return Rejected(tap_id, f"{error.field}: {error.message}")
    except (TypeError, ValueError) as error:  # a value no field check anticipated
        return Rejected(tap_id, f"tap: is malformed ({type(error).__name__})")


def check_reader_taps(
    readers: ReaderDirectory, actor: Actor, observations: Sequence[TapObservation]
) -> None:
    """A reader key appends taps of its own reader only, and only while that reader is
    registered to a site and not retired (DESIGN §2: a gate reader appends for its site only)."""
    readers.active_site(actor.id)
    for observation in observations:
        if observation.reader_id != actor.id:
            raise NotPermitted("reader_id", "tap.reader", "a reader appends its own taps only")


def classify_taps(observations: Sequence[TapObservation]) -> dict[str, list[str]]:
    """Flags for stored taps that need the site's attention (unknown card, revoked card, …),
    by tap ID; a flagged tap is stored all the same and answered `flagged`.

    Filled by the projections' card registry; until it exists no tap is flagged.
    """
    return {}


def tap_results(
    parsed: Sequence[TapObservation | Rejected], receipts: Sequence[TapReceipt],
    flags: Mapping[str, list[str]],
) -> list[TapResult]:
    """One result per tap sent, in order; `receipts` follow the parsed observations' order."""
    stored = iter(receipts)
    results = []
    for item in parsed:
        if isinstance(item, Rejected):
            results.append(TapResult(tap_id=item.tap_id, status="rejected", flags=[],
                                     reason=item.reason, position=None))
            continue
        receipt = next(stored)
        tap_flags = flags.get(receipt.tap_id, []) if receipt.status == "accepted" else []
        status = "flagged" if tap_flags else receipt.status
        results.append(TapResult(tap_id=receipt.tap_id, status=status,  # type: ignore[arg-type]
                                 flags=tap_flags, reason=None, position=receipt.position))
    return results
