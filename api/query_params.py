"""Query parameters shared by the read routes, each validated before any query runs (422 naming
the parameter): dates within the years the ledger can hold, months as YYYY-MM, positions within
the log's integer range."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query
from pydantic import Field

from ledger.errors import InvalidValue
from ledger.ids import SiteId

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)  # no date arithmetic overflows here
MAX_POSITION = 2**63 - 1  # BIGINT: the log's notification IDs
MONTH_PATTERN = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$"

DayField = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
DateFrom = Annotated[date, Query(ge=FIRST_DAY, le=LAST_DAY, description="First day (JST), "
                                 "inclusive", examples=["2025-06-01"])]
DateTo = Annotated[date, Query(ge=FIRST_DAY, le=LAST_DAY, description="Last day (JST), "
                               "inclusive", examples=["2025-06-30"])]
WorkDate = Annotated[date, Query(ge=FIRST_DAY, le=LAST_DAY, description="就業日 (JST)",
                                 examples=["2025-06-19"])]
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM", examples=["2025-06"])]
OptionalMonth = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="Only this month, "
                                           "YYYY-MM", examples=["2025-06"])]
SiteFilter = Annotated[str | None, Query(pattern=f"^{SiteId.pattern.pattern}$",
                                         description="Only this site")]
Trade = Annotated[str | None, Query(min_length=1, max_length=40,
                                    description="Only this trade: slug, name or CCUS code")]
MinPosition = Annotated[int | None, Query(
    ge=0, le=MAX_POSITION,
    description="Read-your-writes: a write's `position`; the answer waits (a few seconds at "
    "most) until the read models include it, else 503 with Retry-After")]


# The longest date range a read takes, in days counted inclusively, so no range reads an unbounded
# share of the log. A site's, a business's or the readers' lists grow with every worker on them:
# a year at most (a leap year's 366 days). One worker's records grow one day at a time, at most
# one a site a day, so a whole career is one request (the web app's total reads it "ever"):
# every day the ledger holds.
SITE_RANGE_DAYS = 366
WORKER_RANGE_DAYS = (LAST_DAY - FIRST_DAY).days + 1


def check_range(date_from: date, date_to: date, longest: int = WORKER_RANGE_DAYS) -> None:
    """The one rule of a read's date range: in order, and at most `longest` days (inclusive);
    else 422 naming `date_to`."""
    if date_to < date_from:
        raise InvalidValue("date_to", "date_range.order",
                           f"{date_to} is before date_from {date_from}")
    if (date_to - date_from).days + 1 > longest:
        raise InvalidValue("date_to", "date_range.length",
                           f"{date_from} to {date_to} is {(date_to - date_from).days + 1} days; "
                           f"this list takes at most {longest} days a request")
