"""現場利用料: a prime's monthly site-fee bills (10 yen per worker-day on its sites; a bill under
10,000 yen is carried over), as the nightly job billed them (`site_fee_bills`)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from ledger.domain.settlement.rules import months_between
from projections.queries._common import Source, reading


@dataclass(frozen=True)
class SiteFeeLine:
    """What one site's worker-days of one work month added to a bill."""

    site_id: str
    work_month: str
    worker_days: int
    yen: int


@dataclass(frozen=True)
class SiteFeeBill:
    month: str
    usage_yen: int  # this month's new usage (late records of earlier months included)
    carried_in_yen: int
    billed_yen: int
    carried_out_yen: int
    outcome: str  # billed | carried_over | nothing_due
    months_carried: int  # months the amount had been carried before this bill (this one included
    # when it carries it on)
    worker_days: int
    lines: tuple[SiteFeeLine, ...]
    position: int


def site_fee_bills(source: Source, prime_business_id: str, month: str | None = None,
                   site_id: str | None = None) -> list[SiteFeeBill]:
    """The prime's bills, oldest month first (or the one of `month`); with `site_id`, each bill's
    lines on that site only (the bill's amounts stay the business's)."""
    with reading(source) as tx:
        rows = tx.execute(
            "SELECT month, usage_yen, carried_in_yen, billed_yen, carried_out_yen, outcome, "
            "lines, position FROM site_fee_bills WHERE prime_business_id = %s ORDER BY month",
            [prime_business_id])
    bills, carrying_since = [], None
    for row in rows:
        bill_month, outcome, carried_out = str(row[0]), str(row[5]), int(row[4])
        since = carrying_since or bill_month
        carried = months_between(since, bill_month) + (1 if carried_out else 0) if (
            carrying_since is not None or carried_out) else 0
        carrying_since = since if carried_out else None
        lines = tuple(SiteFeeLine(str(s), str(m), int(d), int(y))
                      for s, m, d, y in orjson.loads(row[6]))
        if site_id is not None:
            lines = tuple(line for line in lines if line.site_id == site_id)
        if month is None or bill_month == month:
            bills.append(SiteFeeBill(
                month=bill_month, usage_yen=int(row[1]), carried_in_yen=int(row[2]),
                billed_yen=int(row[3]), carried_out_yen=carried_out, outcome=outcome,
                months_carried=carried, worker_days=sum(line.worker_days for line in lines),
                lines=lines, position=int(row[7])))
    return bills
