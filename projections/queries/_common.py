"""What every query shares: a read transaction, the privacy scope, and the work-record row."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson

from ledger.clock import JST
from projections.records import RecordSource, RecordStatus, WorkRecord
from projections.store import CHUNK as CHUNK  # the queries' modules import them here
from projections.store import ReadStore, Tx, as_date, as_datetime
from projections.store import chunks as chunks

Source = Tx | ReadStore
"""A query reads from an open read transaction, or opens one on the store for itself."""


# Enum(value) costs microseconds a call; a career is thousands of rows (2,150 days in 10 years).
SOURCES = {source.value: source for source in RecordSource}
STATUSES = {status.value: status for status in RecordStatus}

RECORD_COLUMNS = (
    "w.technician_id, w.site_id, w.work_date, w.employer_business_id, w.trade, w.role_position, "
    "w.work_content, w.first_entry, w.last_exit, w.source, w.status, w.flags, w.event_positions"
)


@contextmanager
def reading(source: Source) -> Iterator[Tx]:
    if isinstance(source, ReadStore):
        with source.read() as tx:
            yield tx
    else:
        yield source


def scope_filter(
    only_sites_of_prime: str | None, only_employer: str | None, alias: str = "w",
    only_sites: Collection[str] | None = None,
) -> tuple[str, list[Any]]:
    """SQL (``AND …``) keeping work records a scoped caller may see.

    ``only_sites_of_prime``: records on sites whose prime contractor (元請) is that business —
    never records at other companies' sites. ``only_employer``: records whose employer
    (所属事業者) is that business. ``only_sites``: records on those sites (a prime's active
    sites with the worker on their roster, a key's scope of sites). All given: all apply.
    """
    sql, params = "", []
    if only_sites is not None:
        listed = sorted(only_sites)
        sql += (f" AND {alias}.site_id IN ({', '.join(['%s'] * len(listed))})" if listed
                else " AND 1 = 0")
        params.extend(listed)
    if only_sites_of_prime is not None:
        sql += (f" AND EXISTS (SELECT 1 FROM {{sites}} s WHERE s.site_id = {alias}.site_id "
                "AND s.prime_business_id = %s)")
        params.append(only_sites_of_prime)
    if only_employer is not None:
        sql += f" AND {alias}.employer_business_id = %s"
        params.append(only_employer)
    return sql, params


def values_filter(
    tx: Tx, column: str, allowed: Collection[str] | None
) -> tuple[str, list[Any]]:
    """SQL (``AND …``) keeping rows whose `column` is one of `allowed` (a subcontractor's tiers
    on a site, a key's sites, an employer's workers a key may see); None: every row; none: no
    row. The privacy filter of a paged list, so a page is never filled by reading hidden rows
    in Python."""
    if allowed is None:
        return "", []
    if not allowed:
        return " AND 1 = 0", []
    listed, params = tx.is_in(column, sorted(allowed))
    return f" AND {listed}", params


def work_record(row: Sequence[Any]) -> WorkRecord:
    """A row selected with RECORD_COLUMNS."""
    work_date = as_date(row[2])
    assert work_date is not None
    return WorkRecord(
        technician_id=row[0], site_id=row[1], work_date=work_date,
        employer_business_id=row[3], trade=row[4], position=row[5], work_content=row[6],
        first_entry=as_datetime(row[7]), last_exit=as_datetime(row[8]),
        source=SOURCES[row[9]], status=STATUSES[row[10]],
        flags=json_tuple(row[11]), event_positions=json_tuple(row[12]),
    )


def json_tuple(text: str) -> tuple[Any, ...]:
    """A JSON array column (flags, event positions) as a tuple."""
    return () if text == "[]" else tuple(orjson.loads(text))


def jst_day_start(day: date) -> datetime:
    """The first instant of a JST calendar date (work dates are JST dates; times are stored UTC)."""
    return datetime.combine(day, time(0), JST)


def jst_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start, end) instants covering JST dates date_from … date_to inclusive."""
    return jst_day_start(date_from), jst_day_start(date_to + timedelta(days=1))


def is_in(tx: Tx, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``column IN (…)`` and its parameters; one array parameter on PostgreSQL, so the statement
    text does not change with the number of values."""
    if tx.sqlite:
        return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)
    return f"{column} = ANY(%s)", [list(values)]


