"""現場利用料: a prime contractor's site usage fee account, billed monthly with carry-over."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import event

from ledger.actors import Actor
from ledger.domain.base import LedgerAggregate
from ledger.domain.settlement.rules import (
    LOOKBACK_MONTHS,
    add_months,
    check_job_actor,
    check_month_over,
    months_between,
    parse_month,
)
from ledger.errors import InvalidState, InvalidValue
from ledger.ids import BusinessId, aggregate_id

# 現場利用料 (ccus.jp/p/announce20201001full; miyagi-ccus.com/posts/news9.html): 10 yen per work
# record (worker × site × day), billed to the prime. A month's bill under 10,000 yen is carried
# over; our reading of "for at most 6 months": one bill covers at most 6 calendar months of
# usage, so an amount first carried from month S is billed with month S+5's bill at the latest,
# whatever its size. Calendar months, so a quiet month still counts towards the six.
SITE_FEE_YEN_PER_RECORD = 10
SITE_FEE_MINIMUM_BILL_YEN = 10_000
SITE_FEE_MAX_MONTHS_PER_BILL = 6


# -- 現場利用料: site usage fee ------------------------------------------------------------------
def site_fee_account_id(prime_business_id: str) -> UUID:
    return aggregate_id("site-fee-account", prime_business_id)


UsageKey = tuple[str, str]  # site ID, work month


class SiteFeeAccount(LedgerAggregate):
    """A prime contractor's site usage fee account: one ``MonthBilled`` event per billing month,
    with what it carries over (繰越) to the next."""

    @staticmethod
    def create_id(prime_business_id: str, **_: Any) -> UUID:
        return site_fee_account_id(prime_business_id)

    @classmethod
    def open(
        cls, prime_business_id: str, first_month: str, actor: Actor, now: datetime
    ) -> SiteFeeAccount:
        check_job_actor(actor)
        parse_month(first_month, "first_month")
        return cast(SiteFeeAccount, cls(
            prime_business_id=BusinessId(prime_business_id), first_month=first_month,
            actor=actor, opened_at=now))

    @event("Opened")
    def __init__(
        self, prime_business_id: str, first_month: str, actor: Actor, opened_at: datetime
    ) -> None:
        self.prime_business_id = prime_business_id
        self.last_month: str | None = None
        self.last_outcome: str | None = None
        self.last_billed_yen = 0
        self.carried_yen = 0
        self.carried_since: str | None = None  # oldest usage month in the carried amount
        self.billed: dict[str, int] = {}  # "site|work month" → records billed, recent months

    def billed_records(self, site_id: str, work_month: str) -> int:
        return self.billed.get(f"{site_id}|{work_month}", 0)

    def check_next_month(self, month: str) -> None:
        if self.last_month is not None and months_between(self.last_month, month) <= 0:
            raise InvalidState("month", "site_fee.billed",
                               f"{month} is not after the last billed month {self.last_month}")

    def unbilled(self, month: str, usage: Mapping[UsageKey, int]) -> list[list[Any]]:
        """Lines ``[site, work month, records, yen]`` for records not billed yet (negative for
        records billed that no longer count)."""
        oldest = add_months(month, -LOOKBACK_MONTHS)
        billed_keys = {(site, work_month) for site, _, work_month in
                       (k.partition("|") for k in self.billed)
                       if months_between(oldest, work_month) >= 0}
        lines: list[list[Any]] = []
        # Keys billed before and absent now count as zero: a record that stopped counting is
        # credited rather than silently kept.
        for site_id, work_month in sorted(set(usage) | billed_keys):
            if not 0 <= months_between(work_month, month) <= LOOKBACK_MONTHS:
                raise InvalidValue(
                    "usage", "usage.month",
                    f"{work_month} is not within {LOOKBACK_MONTHS} months of {month}")
            delta = usage.get((site_id, work_month), 0) - self.billed_records(site_id, work_month)
            if delta:
                lines.append([site_id, work_month, delta, delta * SITE_FEE_YEN_PER_RECORD])
        return lines

    def has_anything_due(self, month: str, usage: Mapping[UsageKey, int]) -> bool:
        return self.carried_yen != 0 or bool(self.unbilled(month, usage))

    def bill_month(
        self, month: str, usage: Mapping[UsageKey, int], actor: Actor, now: datetime
    ) -> None:
        """Bill `month`: `usage` is the current record count per site and work month (this month
        and the LOOKBACK_MONTHS before it, for late records); only what was not billed before is
        charged."""
        check_job_actor(actor)
        check_month_over(month, now)
        self.check_next_month(month)
        lines = self.unbilled(month, usage)
        usage_yen = sum(int(line[3]) for line in lines)
        total = self.carried_yen + usage_yen
        since = self.carried_since or month
        months = months_between(since, month) + 1
        if total == 0:
            outcome, billed, carried = "nothing_due", 0, 0
        elif total >= SITE_FEE_MINIMUM_BILL_YEN or months >= SITE_FEE_MAX_MONTHS_PER_BILL:
            outcome, billed, carried = "billed", total, 0
        else:
            outcome, billed, carried = "carried_over", 0, total
        self._month_billed(
            prime_business_id=self.prime_business_id, month=month, lines=lines,
            usage_yen=usage_yen, carried_in_yen=self.carried_yen,
            carried_in_since=self.carried_since, billed_yen=billed, carried_out_yen=carried,
            outcome=outcome, actor=actor, billed_at=now,
        )

    @event("MonthBilled")
    def _month_billed(
        self,
        prime_business_id: str,  # repeated so each bill reads on its own
        month: str,
        lines: list[list[Any]],  # [site_id, work_month, records, yen]
        usage_yen: int,
        carried_in_yen: int,
        carried_in_since: str | None,
        billed_yen: int,
        carried_out_yen: int,
        outcome: str,  # billed | carried_over | nothing_due
        actor: Actor,
        billed_at: datetime,
    ) -> None:
        for site_id, work_month, records, _ in lines:
            key = f"{site_id}|{work_month}"
            self.billed[key] = self.billed.get(key, 0) + records
        oldest = add_months(month, -LOOKBACK_MONTHS)
        self.billed = {k: v for k, v in self.billed.items()
                       if months_between(oldest, k.partition("|")[2]) >= 0}
        self.last_month = month
        self.last_outcome = outcome
        self.last_billed_yen = billed_yen
        self.carried_yen = carried_out_yen
        self.carried_since = (carried_in_since or month) if carried_out_yen else None
