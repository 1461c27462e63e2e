"""日締め: close every open site's day once it is over, listing what staff must look at."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from ledger import clock
from ledger.actors import Actor
from ledger.application import Ledger
from ledger.domain.settlement import check_day_over, check_job_actor, start_of_day
from projections.jobs.common import catch_up
from projections.settlement import catch_up as project_decisions
from projections.store import ReadStore, Tx, as_datetime


def close_day(ledger: Ledger, store: ReadStore, day: date, actor: Actor) -> dict[str, int]:
    """Record a ``DayClose.Closed`` for every site open on `day`. A site-day closed already is
    left as it is (its ID is derived from the site and the date), so closing twice adds nothing."""
    check_job_actor(actor)
    check_day_over(day, clock.now())
    position = catch_up(ledger, store)
    start, end = start_of_day(day), start_of_day(day + timedelta(days=1))
    with store.read() as tx:
        sites = [row[0] for row in tx.execute(
            "SELECT site_id FROM {sites} WHERE opened_on <= %s "
            "AND (closed_on IS NULL OR closed_on >= %s) ORDER BY site_id", [day, day])]
        counted, missing = _records(tx, day)
        unknown = _unresolved_unknown_cards(tx, start, end, counted)
        silent = _silent_readers(ledger, tx, start, end)
    inserted = 0
    for site in sites:
        closed = ledger.close_day(site, day, missing.get(site, []), unknown.get(site, []),
                                  silent.get(site, []), position, actor)
        inserted += closed is not None
    # The jobs' own tables are projected at once, so what a job decided is listed as soon as
    # it returns (a day close's findings in the site's exceptions, not only after the next
    # job's catch-up).
    project_decisions(ledger, store)
    return {
        "sites": len(sites), "closed": inserted, "already_closed": len(sites) - inserted,
        "missing_exits": sum(len(v) for s, v in missing.items() if s in sites),
        "unknown_card_taps": sum(len(v) for s, v in unknown.items() if s in sites),
        "silent_readers": sum(len(v) for s, v in silent.items() if s in sites),
    }


def _records(
    tx: Tx, day: date
) -> tuple[set[tuple[str, str]], dict[str, list[dict[str, Any]]]]:
    """Counted (worker, site) pairs of the day, and per site the records with no exit."""
    counted: set[tuple[str, str]] = set()
    missing: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for technician, site, first_entry, flags, positions in tx.execute(
        "SELECT technician_id, site_id, first_entry, flags, event_positions FROM {work_records} "
        "WHERE work_date = %s AND status = 'counted' ORDER BY site_id, technician_id", [day],
    ):
        counted.add((technician, site))
        if "missing_exit" in orjson.loads(flags):
            missing[site].append({"technician_id": technician,
                                  "first_entry": as_datetime(first_entry),
                                  "event_positions": orjson.loads(positions)})
    return counted, missing


def _unresolved_unknown_cards(
    tx: Tx, start: datetime, end: datetime, counted: set[tuple[str, str]]
) -> dict[str, list[dict[str, Any]]]:
    """Taps from cards unknown when tapped that staff still have to look at. Not those the
    site's staff assigned to a worker (``Site.UnknownCardAssigned``: the exception carries the
    decision), nor those of a card since issued to a worker who now has a counted record there
    that day (e.g. an approved manual entry): both are resolved, and a day close lists only
    what is open."""
    taps = [row for row in tx.execute(
        "SELECT tap_id, site_id, reader_id, card_id, reader_time, position, kind "
        "FROM {site_exceptions} WHERE site_id IS NOT NULL AND reader_time >= %s "
        "AND reader_time < %s AND resolution IS NULL ORDER BY reader_time, tap_id", [start, end],
    ) if "unknown_card" in row[6].split(",")]
    cards = sorted({row[3] for row in taps if row[3]})
    marks = ", ".join(["%s"] * len(cards))
    holders = dict(tx.execute(
        f"SELECT card_id, technician_id FROM {{card_registry}} WHERE card_id IN ({marks})",
        cards)) if cards else {}
    unresolved: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for tap_id, site, reader_id, card_id, reader_time, position, _ in taps:
        holder = holders.get(card_id)
        if holder is not None and (holder, site) in counted:
            continue
        unresolved[site].append({"tap_id": tap_id, "reader_id": reader_id, "card_id": card_id,
                                 "reader_time": as_datetime(reader_time), "position": position})
    return unresolved


def _silent_readers(
    ledger: Ledger, tx: Tx, start: datetime, end: datetime
) -> dict[str, list[str]]:
    """Readers in service for the whole day (registered before it began, not retired before it
    ended) that sent no tap dated that day."""
    heard = {row[0] for row in tx.execute(
        "SELECT DISTINCT reader_id FROM {tap_facts} WHERE reader_time >= %s AND reader_time < %s",
        [start, end])}
    silent: defaultdict[str, list[str]] = defaultdict(list)
    for reader_id, site in tx.execute(
        "SELECT reader_id, site_id FROM {reader_registry} ORDER BY reader_id"
    ):
        if reader_id in heard:
            continue
        reader = ledger.reader(reader_id)
        retired_before_end = reader.retired and reader.modified_on < end
        if reader.created_on < start and not retired_before_end:
            silent[site].append(reader_id)
    return silent
