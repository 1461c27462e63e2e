"""Errors of the Kentaikyo calculation. Each is a `ValueError`: bad input to a pure function, never
a transient failure, so retrying the same input can only fail the same way."""

from __future__ import annotations

from datetime import date


class KentaikyoError(ValueError):
    """Base class: the input cannot be settled as given."""


class RateTableError(KentaikyoError):
    """The daily-rate data file breaks its schema. Names the file and the key."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        super().__init__(f"{source}: {key}: {message}")


class RateNotDefined(KentaikyoError):
    """No 掛金日額 is in force on this work date (it is before the table's first entry)."""

    def __init__(self, work_date: date, first: date) -> None:
        self.work_date = work_date
        self.first = first
        super().__init__(
            f"no Kentaikyo daily rate for work date {work_date}: the rate table starts on {first}"
        )


class InvalidMonth(KentaikyoError):
    def __init__(self, month: object) -> None:
        super().__init__(f"{month!r} is not a month in the form YYYY-MM")


class UnknownSite(KentaikyoError):
    """A counted record names a site the caller gave no `SiteInfo` for: its method and prime are
    unknown, so neither eligibility nor who pays can be decided."""

    def __init__(self, site_id: str) -> None:
        self.site_id = site_id
        super().__init__(f"no SiteInfo for site {site_id!r}")


class InvalidStructure(KentaikyoError):
    """A site's 施工体制 is not a tree under its prime (unknown parent, cycle, parent of prime)."""

    def __init__(self, site_id: str, message: str) -> None:
        self.site_id = site_id
        super().__init__(f"site {site_id}: {message}")


class DuplicateWorkRecord(KentaikyoError):
    """Two counted records for one technician × site × work date. A work record *is* that triple,
    so this is a projection bug; paying on it could pay a worker-day twice or pick a carrier by
    input order, so it stops the calculation instead."""

    def __init__(self, technician_id: str, site_id: str, work_date: date) -> None:
        super().__init__(
            f"two counted work records for technician {technician_id} at site {site_id} "
            f"on {work_date}"
        )


class NaiveEntryTime(KentaikyoError):
    """A first entry without a time zone cannot be compared with other sites' entries."""

    def __init__(self, technician_id: str, site_id: str, work_date: date) -> None:
        super().__init__(
            f"first_entry of technician {technician_id} at site {site_id} on {work_date} "
            "has no time zone"
        )
