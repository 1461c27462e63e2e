"""就業履歴 — the work record as the read side derives it: one worker × one site × one work date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum


class RecordSource(str, Enum):
    CARD = "card"  # from gate taps
    PHONE = "phone"  # from the worker's phone at the site's gate code only (スマホ入場)
    MANUAL = "manual"  # an approved (or pending) manual entry 直接入力
    CORRECTED = "corrected"  # card or manual, then changed by an approved correction 訂正


class RecordStatus(str, Enum):
    COUNTED = "counted"
    PENDING = "pending"  # a manual entry awaiting the prime's approval: counts nothing
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True)
class WorkRecord:
    technician_id: str
    site_id: str
    work_date: date
    employer_business_id: str | None
    trade: str | None
    position: str | None  # 職長, 班長, 一般 … (ledger.domain.base.Position values)
    work_content: str | None
    first_entry: datetime | None
    last_exit: datetime | None
    source: RecordSource
    status: RecordStatus
    flags: tuple[str, ...] = ()  # missing_exit, missing_entry, clock_skew, unknown_card …
    event_positions: tuple[int, ...] = field(default=())  # log positions of the events behind it

    @property
    def counted(self) -> bool:
        return self.status is RecordStatus.COUNTED

    @property
    def minutes_on_site(self) -> int | None:
        if self.first_entry is None or self.last_exit is None:
            return None
        return int((self.last_exit - self.first_entry).total_seconds() // 60)
