"""現場利用料: bill each prime contractor 10 yen per work record on its sites, monthly, with the
carry-over of small bills (see ``ledger.domain.settlement`` for the rule as we read it)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ledger import clock
from ledger.actors import Actor
from ledger.application import Ledger
from ledger.domain.settlement import (
    LOOKBACK_MONTHS,
    UsageKey,
    add_months,
    check_job_actor,
    check_month_over,
    month_of,
    months_between,
    parse_month,
)
from projections.jobs.common import catch_up
from projections.kentaikyo import month_bounds
from projections.settlement import catch_up as project_decisions
from projections.store import ReadStore, Tx, as_date


def bill_site_fees(ledger: Ledger, store: ReadStore, month: str, actor: Actor) -> dict[str, Any]:
    """Bill `month` to every prime with records in it, late records of recent months, or an
    amount carried over. A prime whose account has billed `month` already is left alone."""
    check_job_actor(actor)
    parse_month(month)
    check_month_over(month, clock.now())
    catch_up(ledger, store)
    with store.read() as tx:
        months = _billable_months(tx, month)
        usage = _usage(tx, months)
        office = _office_borne(usage, _training_sites(tx))
        carrying = _primes_carrying(tx)
    accounts, already = ledger.bill_site_fees(month, usage, carrying, actor)
    project_decisions(ledger, store)
    outcomes = [a.last_outcome for a in accounts]
    return {
        "primes": len(accounts), "already_billed": already,
        "billed": outcomes.count("billed"), "carried_over": outcomes.count("carried_over"),
        "billed_yen": sum(a.last_billed_yen for a in accounts),
        # training institutions' records: their fee is the CCUS business office's, not billed
        "office_borne_records": sum(office.values()),
    }


def _training_sites(tx: Tx) -> set[str]:
    """CCUS登録教育訓練機関 (Site.TrainingInstitutionDeclared)."""
    return {site for (site,) in tx.execute(
        "SELECT site_id FROM {site_entry_rules} WHERE kind = 'training_institution'")}


def _office_borne(usage: dict[str, dict[UsageKey, int]], training: set[str]
                  ) -> dict[UsageKey, int]:
    """Take the training sites' usage out of the primes' (振興基金 is billed nothing for them:
    the site fee is borne by the CCUS business office) and return it, per site and month."""
    office: dict[UsageKey, int] = {}
    for prime in list(usage):
        for key in [k for k in usage[prime] if k[0] in training]:
            office[key] = usage[prime].pop(key)
        if not usage[prime]:
            del usage[prime]
    return office


def _billable_months(tx: Tx, month: str) -> list[str]:
    """`month` and the ones before it that late records may still change, but none before the
    first month this ledger ever billed: earlier usage was never ours to bill."""
    rows = tx.execute("SELECT MIN(month) FROM site_fee_bills")
    first_billed = rows[0][0] if rows and rows[0][0] else month
    return [m for m in (add_months(month, -k) for k in range(LOOKBACK_MONTHS, -1, -1))
            if months_between(first_billed, m) >= 0]


def _usage(tx: Tx, months: list[str]) -> dict[str, dict[UsageKey, int]]:
    """Counted work records per prime, site and work month."""
    first, _ = month_bounds(months[0])
    _, last = month_bounds(months[-1])
    usage: defaultdict[str, defaultdict[UsageKey, int]] = defaultdict(lambda: defaultdict(int))
    for prime, site, work_date, records in tx.execute(
        "SELECT s.prime_business_id, r.site_id, r.work_date, COUNT(*) FROM {work_records} r "
        "JOIN {sites} s ON s.site_id = r.site_id WHERE r.status = 'counted' "
        "AND r.work_date >= %s AND r.work_date <= %s "
        "GROUP BY s.prime_business_id, r.site_id, r.work_date", [first, last],
    ):
        day = as_date(work_date)
        assert day is not None
        usage[prime][(site, month_of(day))] += int(records)
    return {prime: dict(by_site) for prime, by_site in usage.items()}


def _primes_carrying(tx: Tx) -> set[str]:
    """Primes whose latest bill carried an amount over."""
    return {row[0] for row in tx.execute(
        "SELECT b.prime_business_id FROM site_fee_bills b WHERE b.carried_out_yen <> 0 "
        "AND b.month = (SELECT MAX(month) FROM site_fee_bills l "
        "WHERE l.prime_business_id = b.prime_business_id)")}
