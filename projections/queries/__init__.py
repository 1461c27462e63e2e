"""Read-model queries, one module per read concern. They read the read-model tables directly and
never load aggregates (STYLE.md: views.py). Each takes a ``Tx`` from ``ReadStore.read()`` or the
``ReadStore`` itself, and returns frozen dataclasses.

Privacy is the API's to decide; queries give it the means: ``only_sites_of_prime`` keeps records
on sites whose prime contractor is that business, ``only_employer`` records whose employer is that
business.
"""

from projections.queries.attendance import (
    Attendance,
    SiteAttendance,
    missing_exits,
    on_site_now,
    site_attendance,
)
from projections.queries.career import CareerSummary, DayCount, career_summary
from projections.queries.exceptions import (
    TapException,
    UnregisteredReader,
    site_exceptions,
    unregistered_readers,
)
from projections.queries.inbox import PendingRequest, prime_inbox
from projections.queries.kentaikyo import (
    KentaikyoDay,
    KentaikyoLine,
    KentaikyoMonth,
    Outcome,
    kentaikyo_month,
)
from projections.queries.levels import LevelFigures, LevelJudgment, level_judgments
from projections.queries.records import career_records

__all__ = [
    "Attendance",
    "CareerSummary",
    "DayCount",
    "KentaikyoDay",
    "KentaikyoLine",
    "KentaikyoMonth",
    "LevelFigures",
    "LevelJudgment",
    "Outcome",
    "PendingRequest",
    "SiteAttendance",
    "TapException",
    "UnregisteredReader",
    "career_records",
    "career_summary",
    "kentaikyo_month",
    "level_judgments",
    "missing_exits",
    "on_site_now",
    "prime_inbox",
    "site_attendance",
    "site_exceptions",
    "unregistered_readers",
]
