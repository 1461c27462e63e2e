"""The nightly jobs as use cases: each takes the Ledger (write side) and a ReadStore (read side).

They read the read model after bringing it up to the head of the log, decide through the
settlement aggregates (``ledger.domain.settlement``) and record events under the SYSTEM actor.
Scheduling, locks and run records are in ``projections.settlement``.
"""

from projections.jobs.day_close import close_day
from projections.jobs.expiry import expire_entries
from projections.jobs.kentaikyo import settle_kentaikyo
from projections.jobs.read_models import ReadModelsDiffer, verify_read_models
from projections.jobs.seal import Verification, seal_days, verify_seals
from projections.jobs.site_fees import bill_site_fees

__all__ = [
    "ReadModelsDiffer",
    "Verification",
    "bill_site_fees",
    "close_day",
    "expire_entries",
    "seal_days",
    "settle_kentaikyo",
    "verify_read_models",
    "verify_seals",
]
