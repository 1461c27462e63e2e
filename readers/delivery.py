"""What the ledger answers for each tap it was sent (the `/v1/taps` contract's ``results``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Stored (now or before): done. A conflict is stored too, as a version of its own that the
# site's staff resolve; sending it again would only be answered duplicate, so it is delivered,
# and the uploader says so loudly (its tap ID held other content: a reused sequence number).
DELIVERED = frozenset({"accepted", "duplicate", "flagged", "conflict"})
REJECTED = "rejected"  # malformed: the ledger will never accept it, so retrying is pointless
CONFLICT = "conflict"


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
    def conflict(self) -> bool:
        return self.status == CONFLICT

    @property
    def rejected(self) -> bool:
        return self.status == REJECTED


@dataclass(frozen=True)
class UploadAck:
    """The ledger's answer to one batch: committed before it was sent."""

    results: list[TapResult]
    server_time: datetime | None = None
    position: int | None = field(default=None)
