"""就業履歴 — a worker's work records over a date range, every status, in date order."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from projections.queries._common import RECORD_COLUMNS, Source, reading, scope_filter, work_record
from projections.queries.paging import Keyset
from projections.records import WorkRecord


def career_records(
    source: Source,
    technician_id: str,
    date_from: date,
    date_to: date,
    only_sites_of_prime: str | None = None,
    only_employer: str | None = None,
    only_sites: Collection[str] | None = None,
) -> list[WorkRecord]:
    """Counted, pending, rejected and expired records of one worker, dates inclusive, ordered by
    work date then site. Each carries its source, flags, times and the log positions behind it;
    ``minutes_on_site`` is its time on site. The scope arguments are described in
    ``scope_filter``."""
    scope_sql, scope_params = scope_filter(only_sites_of_prime, only_employer,
                                           only_sites=only_sites)
    with reading(source) as tx:
        rows = tx.execute(
            f"SELECT {RECORD_COLUMNS} FROM {{work_records}} w WHERE w.technician_id = %s "
            f"AND w.work_date >= %s AND w.work_date <= %s{scope_sql} "
            "ORDER BY w.work_date, w.site_id",
            [technician_id, date_from, date_to, *scope_params])
    return [work_record(row) for row in rows]


def career_records_page(
    source: Source,
    technician_id: str,
    date_from: date,
    date_to: date,
    page: Keyset,
    only_sites_of_prime: str | None = None,
    only_employer: str | None = None,
    only_sites: Collection[str] | None = None,
) -> list[WorkRecord]:
    """A page of `career_records` in SQL: keyset on (work_date, site_id) in the worker's index,
    the scope in the WHERE."""
    scope_sql, scope_params = scope_filter(only_sites_of_prime, only_employer,
                                           only_sites=only_sites)
    after, tail, keyset_params = page.clauses(("w.work_date", "w.site_id"), date_from)
    with reading(source) as tx:
        rows = tx.execute(
            f"SELECT {RECORD_COLUMNS} FROM {{work_records}} w WHERE w.technician_id = %s "
            f"AND w.work_date <= %s{scope_sql}{after}{tail}",
            [technician_id, date_to, *scope_params, *keyset_params])
    return [work_record(row) for row in rows]
