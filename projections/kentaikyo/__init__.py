"""建退共 (Kentaikyo) electronic method: daily rates, one contribution per worker-day, and the
monthly report of worker-days and points (1 point = 1 yen).

Pure: the only read is the rate table shipped in this package. Usage::

    report = month_report(records, workers, employers, sites, "2021-10")
    report.lines, report.employer_totals, report.prime_totals
"""

from projections.kentaikyo.contribution import (
    AlreadyCovered,
    DayOutcome,
    Eligible,
    Ineligibility,
    NotEligible,
    WorkerDay,
    carriers,
    judge_day,
)
from projections.kentaikyo.errors import (
    DuplicateWorkRecord,
    InvalidMonth,
    InvalidStructure,
    KentaikyoError,
    NaiveEntryTime,
    RateNotDefined,
    RateTableError,
    UnknownSite,
)
from projections.kentaikyo.rates import (
    DailyRate,
    RateTable,
    daily_rate,
    parse_rate_table,
    shipped_rate_table,
)
from projections.kentaikyo.report import (
    MonthReport,
    PrimeTotal,
    ReportLine,
    Total,
    month_bounds,
    month_report,
)
from projections.kentaikyo.sites import SiteInfo

__all__ = [
    "AlreadyCovered",
    "DailyRate",
    "DayOutcome",
    "DuplicateWorkRecord",
    "Eligible",
    "Ineligibility",
    "InvalidMonth",
    "InvalidStructure",
    "KentaikyoError",
    "MonthReport",
    "NaiveEntryTime",
    "NotEligible",
    "PrimeTotal",
    "RateNotDefined",
    "RateTable",
    "RateTableError",
    "ReportLine",
    "SiteInfo",
    "Total",
    "UnknownSite",
    "WorkerDay",
    "carriers",
    "daily_rate",
    "judge_day",
    "month_bounds",
    "month_report",
    "parse_rate_table",
    "shipped_rate_table",
]
