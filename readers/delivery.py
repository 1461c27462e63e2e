"""What the ledger answers for each tap it was sent (the `/v1/taps` contract's ``results``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DELIVERED = frozenset({"accepted", "duplicate", "flagged"})  # stored (now or before): done
REJECTED = "rejected"  # malformed: the ledger will never accept it, so retrying is pointless


@dataclass(frozen=True)
class TapResult:
    tap_id: str
    status: str
    flags: tuple[str, ...] = ()
    reason: str | None = None
    position: int | None = None

    @property
    def delivered(self) -> bool:
        return self.status in DELIVERED

    @property
    def rejected(self) -> bool:
        return self.status == REJECTED


@dataclass(frozen=True)
class UploadAck:
    """The ledger's answer to one batch: committed before it was sent."""

    results: list[TapResult]
    server_time: datetime | None = None
    position: int | None = field(default=None)
