"""The nightly jobs (締め), in one package: each job, their scheduler, runs and locks, the files a
settlement issues, and the tables of what the jobs decided.

A job reads the read models after bringing them up to the head of the log, and records what it
decides through the Ledger's use cases under the SYSTEM actor, like every other writer; the
rules are the settlement aggregates' (``ledger.domain.settlement``). Nothing here writes events.
The scheduler (``projections.jobs.scheduler``) imports the jobs; no job imports the scheduler.
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
