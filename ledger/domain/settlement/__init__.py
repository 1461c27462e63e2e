"""締め — what the nightly jobs decide: day closes, Kentaikyo settlements (就労実績報告), site usage
fee bills (現場利用料) and daily seals of the log, one aggregate a module, with the rules they
share in ``rules``.

Each is an aggregate with a deterministic ID (site-day, month, prime contractor, day), so a job
that runs twice collides with its first result instead of issuing a second one. Issued results are
never changed: a late approval or correction after a settlement shows up as an adjustment in the
next one. Nothing here does I/O; the jobs in ``projections.jobs`` gather the facts and record
what these decide through the Ledger's use cases.
"""

from eventsourcing.utils import register_topic

from ledger.domain.settlement.day_close import DayClose, day_close_id
from ledger.domain.settlement.kentaikyo import (
    Adjustment,
    DayKey,
    DayValue,
    KentaikyoSettlement,
    SettlementTally,
    day_key,
    diff_days,
    diff_streams,
    issued_state,
    issued_stream,
    line_order,
    parties_as_lines,
    parties_from_lines,
    settlement_id,
)
from ledger.domain.settlement.rules import (
    LOOKBACK_MONTHS,
    MAX_EVENT_BYTES,
    LineSet,
    add_months,
    check_day_over,
    check_job_actor,
    check_month_over,
    check_sha256,
    encode_line,
    line_set_of,
    month_of,
    months_between,
    parse_month,
    start_of_day,
)
from ledger.domain.settlement.seal import (
    DIGEST_PREFIX_BYTES,
    DIGEST_PREFIXES_PER_LINE,
    GENESIS_HASH,
    DailySeal,
    SealHead,
    SealKeys,
    daily_seal_id,
    digest_prefix_lines,
    event_digest,
    seal_hash,
    seal_keys_id,
)
from ledger.domain.settlement.site_fee import (
    SITE_FEE_MAX_MONTHS_PER_BILL,
    SITE_FEE_MINIMUM_BILL_YEN,
    SITE_FEE_YEN_PER_RECORD,
    SiteFeeAccount,
    UsageKey,
    site_fee_account_id,
)

# Events stored before the aggregates had a module each name them by this package: they still
# resolve to the same classes (and `LEGACY_TOPICS` lets a topic filter find them).
LEGACY_TOPICS = {
    f"ledger.domain.settlement:{name}": cls
    for name, cls in (
        ("DayClose", DayClose), ("DayClose.Closed", DayClose.Closed),  # type: ignore[attr-defined]
        ("DailySeal", DailySeal), ("DailySeal.Sealed", DailySeal.Sealed),
        ("KentaikyoSettlement", KentaikyoSettlement),
        ("KentaikyoSettlement.Issued", KentaikyoSettlement.Issued),
        ("SiteFeeAccount", SiteFeeAccount),
        ("SiteFeeAccount.Opened", SiteFeeAccount.Opened),  # type: ignore[attr-defined]
        ("SiteFeeAccount.MonthBilled", SiteFeeAccount.MonthBilled),  # type: ignore[attr-defined]
    )
}
for _topic, _cls in LEGACY_TOPICS.items():
    register_topic(_topic, _cls)

__all__ = [
    "DIGEST_PREFIXES_PER_LINE",
    "DIGEST_PREFIX_BYTES",
    "GENESIS_HASH",
    "LEGACY_TOPICS",
    "LOOKBACK_MONTHS",
    "MAX_EVENT_BYTES",
    "SITE_FEE_MAX_MONTHS_PER_BILL",
    "SITE_FEE_MINIMUM_BILL_YEN",
    "SITE_FEE_YEN_PER_RECORD",
    "Adjustment",
    "DailySeal",
    "DayClose",
    "DayKey",
    "DayValue",
    "KentaikyoSettlement",
    "LineSet",
    "SealHead",
    "SealKeys",
    "SettlementTally",
    "SiteFeeAccount",
    "UsageKey",
    "add_months",
    "check_day_over",
    "check_job_actor",
    "check_month_over",
    "check_sha256",
    "daily_seal_id",
    "day_close_id",
    "day_key",
    "diff_days",
    "diff_streams",
    "digest_prefix_lines",
    "encode_line",
    "event_digest",
    "issued_state",
    "issued_stream",
    "line_order",
    "line_set_of",
    "month_of",
    "months_between",
    "parse_month",
    "parties_as_lines",
    "parties_from_lines",
    "seal_hash",
    "seal_keys_id",
    "settlement_id",
    "site_fee_account_id",
    "start_of_day",
]
