"""How spooled taps reach the ledger: one small interface, two transports (HTTP, in-process).

A transport either returns the ledger's acknowledgement of a batch (committed before it is
returned) or raises one of the errors below, which tell the uploader how to retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from readers.delivery import UploadAck
from readers.spool import SpooledTap

MAX_BATCH = 5_000  # the /v1/taps contract's limit per request (api.schemas.taps.MAX_TAPS)


class TransportUnavailable(Exception):
    """The ledger cannot be reached or failed (connection refused, timeout, 5xx): retry with
    backoff; nothing in the batch is known to be stored."""


class TransportUnauthorized(Exception):
    """The ledger refused the reader's credentials (401/403): retry slowly, and loudly."""


class BatchRefused(Exception):
    """The ledger refused the request as a whole as malformed (400/413/422). The uploader
    splits the batch to find the taps at fault, so one bad tap cannot hold up the rest."""


class Transport(Protocol):
    def send(self, taps: Sequence[SpooledTap]) -> UploadAck: ...


def tap_payload(tap: SpooledTap) -> dict[str, Any]:
    """One tap as the `/v1/taps` contract spells it."""
    return {
        "tap_id": tap.tap_id,
        "reader_id": tap.reader_id,
        "card_id": tap.card_id,
        "technician_id": tap.technician_id,
        "direction": tap.direction.value,
        "reader_time": tap.reader_time.isoformat(),
    }
