"""就業日数 by month: a worker's counted work dates, per month × site × employer × trade, as bits.

A row's `day_bits` has bit d-1 set when the worker has a counted record on day d of the month at
that site, with that employer and trade (an employer or trade the record names none of is kept as
''). A worker has one record per site and date, so within a row every bit is one record, and:

- 就業履歴数 (records) over rows = the sum of their set bits;
- 就業日数 (work days) = per month, the set bits of the rows' bits OR-ed together.

A decade's career is about 120 months of a few rows each instead of 2,150 records, so a summary
over any range and scope reads a few hundred small rows (`projections.queries.career`).

The table is kept with `work_records` in the same transaction, from the records a batch changed
(`DayChanges`); the records keep the events behind each day. A rebuild or an as-of replay builds
both from the log alike, and migration 0007 filled it from the records there were.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from projections.store import Tx

NONE = ""  # the record names no employer or no trade
COUNTED = "counted"

DayKey = tuple[str, date, str, str, str]  # technician, month, site, employer, trade
COLUMNS = ("technician_id", "month", "site_id", "employer_business_id", "trade")


def month_of(day: date) -> date:
    return day.replace(day=1)


def day_bit(day: date) -> int:
    return 1 << (day.day - 1)


class DayChanges:
    """The bits one batch sets and clears, written in one go (`write`). A record's own bit is
    cleared from the key it had and set in the key it has now, so when both are one key (the
    record changed, its site, employer and trade did not) the bit stays set."""

    def __init__(self) -> None:
        self._clear: defaultdict[DayKey, int] = defaultdict(int)
        self._set: defaultdict[DayKey, int] = defaultdict(int)

    def removed(self, technician_id: str, site_id: str, work_date: date,
                group: tuple[str | None, str | None, str]) -> None:
        """A stored record of (employer, trade, status) `group` is replaced or gone."""
        if group[2] == COUNTED:
            self._clear[_key(technician_id, site_id, work_date, group)] |= day_bit(work_date)

    def added(self, technician_id: str, site_id: str, work_date: date,
              group: tuple[str | None, str | None, str]) -> None:
        """A record of (employer, trade, status) `group` is stored."""
        if group[2] == COUNTED:
            self._set[_key(technician_id, site_id, work_date, group)] |= day_bit(work_date)

    def write(self, tx: Tx) -> None:
        changes = [(*key, self._clear.get(key, 0), self._set.get(key, 0))
                   for key in self._clear.keys() | self._set.keys()]
        if not changes:
            return
        if tx.sqlite:
            _write_sqlite(tx, changes)
        else:
            _write_postgres(tx, changes)


def _key(technician_id: str, site_id: str, work_date: date,
         group: tuple[str | None, str | None, str]) -> DayKey:
    return (technician_id, month_of(work_date), site_id, group[0] or NONE, group[1] or NONE)


# One statement: clear, then set; a row left with no day is deleted, so a table kept batch by
# batch holds exactly the rows a rebuild makes.
_MERGE = """
MERGE INTO {work_day_months} m
USING (SELECT * FROM unnest(%s::text[], %s::date[], %s::text[], %s::text[], %s::text[],
                            %s::int4[], %s::int4[]))
      AS c(technician_id, month, site_id, employer_business_id, trade, clear_bits, set_bits)
ON m.technician_id = c.technician_id AND m.month = c.month AND m.site_id = c.site_id
   AND m.employer_business_id = c.employer_business_id AND m.trade = c.trade
WHEN MATCHED AND ((m.day_bits & ~c.clear_bits) | c.set_bits) = 0 THEN DELETE
WHEN MATCHED THEN UPDATE SET day_bits = (m.day_bits & ~c.clear_bits) | c.set_bits
WHEN NOT MATCHED AND c.set_bits <> 0 THEN
    INSERT (technician_id, month, site_id, employer_business_id, trade, day_bits)
    VALUES (c.technician_id, c.month, c.site_id, c.employer_business_id, c.trade, c.set_bits)
"""


def _write_postgres(tx: Tx, changes: list[tuple[Any, ...]]) -> None:
    tx.execute(_MERGE, [list(column) for column in zip(*changes, strict=True)])


_KEY_MATCH = " AND ".join(f"{column} = %s" for column in COLUMNS)


def _write_sqlite(tx: Tx, changes: list[tuple[Any, ...]]) -> None:
    cleared = [(bits, *key) for *key, bits, _ in changes if bits]
    tx.executemany(f"UPDATE {{work_day_months}} SET day_bits = day_bits & ~%s WHERE {_KEY_MATCH}",
                   cleared)
    tx.executemany(
        f"INSERT INTO {{work_day_months}} ({', '.join(COLUMNS)}, day_bits) "
        "VALUES (%s, %s, %s, %s, %s, %s) "
        f"ON CONFLICT ({', '.join(COLUMNS)}) DO UPDATE SET day_bits = day_bits | excluded.day_bits",
        [(*key, bits) for *key, _, bits in changes if bits])
    tx.executemany(f"DELETE FROM {{work_day_months}} WHERE day_bits = 0 AND {_KEY_MATCH}",
                   [key for _, *key in cleared])
