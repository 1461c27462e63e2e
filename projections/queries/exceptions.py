"""Taps the site's staff must resolve: unknown cards, revoked cards, clock skew, conflicting
resends — and, for admins, taps from readers registered to no site (their ``site_id`` is NULL, so
no site sees them).

Each tap was stored anyway (nothing a reader sends is dropped); only the flagged ones are listed,
with the flags their upload was answered with (`projections.tap_flags`). A tap ID resent with
other content is listed as a version of its own (kind ``conflict``), with its content hash and
that of the version stored first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from projections.queries._common import Source, jst_bounds, reading
from projections.queries.paging import Keyset
from projections.store import as_datetime

_COLUMNS = ("SELECT tap_id, site_id, reader_id, kind, technician_id, card_id, reader_time, "
            "position, content_hash, stored_content_hash, resolution, resolved_by, resolved_at "
            "FROM {site_exceptions} ")


@dataclass(frozen=True)
class TapException:
    tap_id: str
    site_id: str | None
    reader_id: str
    kinds: tuple[str, ...]  # in `tap_flags.FLAGS` order: unknown_card … clock_skew, conflict
    technician_id: str | None  # the card's holder, when the card is known (revoked: yes)
    card_id: str | None
    reader_time: datetime
    position: int  # log position of the tap (of the conflicting version, for a conflict)
    content_hash: str  # of this version's content ('' if projected before hashes were kept)
    stored_content_hash: str | None  # conflict: the content hash of the version stored first
    # The staff's decision that resolved it (`projections.resolutions`); None while open.
    resolution: dict[str, Any] | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class UnregisteredReader:
    """A reader that sent taps while registered to no site, with those taps."""

    reader_id: str
    taps: tuple[TapException, ...]

    @property
    def first_tap_at(self) -> datetime:
        return self.taps[0].reader_time

    @property
    def last_tap_at(self) -> datetime:
        return self.taps[-1].reader_time


def site_exceptions(
    source: Source, site_id: str, date_from: date, date_to: date
) -> list[TapException]:
    """A site's flagged taps whose reader time falls on ``date_from`` … ``date_to`` (JST)."""
    start, end = jst_bounds(date_from, date_to)
    with reading(source) as tx:
        rows = tx.execute(_COLUMNS + "WHERE site_id = %s AND reader_time >= %s "
                          "AND reader_time < %s ORDER BY reader_time, position",
                          [site_id, start, end])
    return [_exception(row) for row in rows]


def site_exceptions_page(
    source: Source, site_id: str, date_from: date, date_to: date, page: Keyset
) -> list[TapException]:
    """A page of `site_exceptions` in SQL (keyset on reader time and log position): at most the
    page's limit + 1 rows, read from the site's index in that order."""
    start, end = jst_bounds(date_from, date_to)
    after, tail, keyset_params = page.clauses(("reader_time", "position"), start)
    with reading(source) as tx:
        rows = tx.execute(_COLUMNS + f"WHERE site_id = %s AND reader_time < %s{after}{tail}",
                          [site_id, end, *keyset_params])
    return [_exception(row) for row in rows]


def unregistered_readers(
    source: Source, date_from: date, date_to: date
) -> list[UnregisteredReader]:
    """Per reader ID, its taps made while it belonged to no site (admins only)."""
    start, end = jst_bounds(date_from, date_to)
    with reading(source) as tx:
        rows = tx.execute(_COLUMNS + "WHERE site_id IS NULL AND reader_time >= %s "
                          "AND reader_time < %s ORDER BY reader_id, reader_time, position",
                          [start, end])
    readers: dict[str, list[TapException]] = {}
    for row in rows:
        readers.setdefault(row[2], []).append(_exception(row))
    return [UnregisteredReader(reader_id, tuple(taps)) for reader_id, taps in readers.items()]


def _exception(row: Sequence[Any]) -> TapException:
    reader_time = as_datetime(row[6])
    assert reader_time is not None
    return TapException(row[0], row[1], row[2], tuple(row[3].split(",")), row[4], row[5],
                        reader_time, int(row[7]), row[8], row[9],
                        None if row[10] is None else orjson.loads(row[10]), row[11],
                        as_datetime(row[12]))

