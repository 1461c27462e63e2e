"""Replays: rebuild the read models from the whole log, or answer "as of" a past moment.

A rebuild writes into fresh ``<table>__next`` tables while the live tables keep answering, then
swaps them in one transaction. An as-of replay writes into a separate SQLite file and never touches
the live tables, so an auditor can compare then and now.

An as-of replay reads the log only up to the moment (`cut_at`): the prefix of the log before the
first event recorded after it. That is the rule the daily seals cut days by
(`projections.jobs.seal`), so a replay as of the end of a sealed day stops at that seal's last
position, and the seals let the search for the cut start at the day of the moment instead of at
the beginning of the log.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Mapper

from ledger.application import Ledger
from ledger.clock import jst_date
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from projections.follower import DEFAULT_BATCH, LogFollower
from projections.jobs.rawlog import RawEvent, count_between, iter_raw
from projections.jobs.seal import plain_state
from projections.settlement import HANDLED as JOBS_EVENTS
from projections.store import READ_MODEL_TABLES, ReadStore, Tx

NEXT = "__next"
Progress = Callable[[int], None]


def rebuild(
    ledger: Ledger,
    settings: Settings,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> int:
    """Rebuild every read model from the log and swap it in; return the events processed."""
    store = ReadStore(settings, suffix=NEXT)
    try:
        with store.transaction() as tx:
            _create_next_tables(tx)
        runner = LogFollower(ledger, store, batch_size=batch_size)
        runner.progress = progress
        processed = runner.catch_up()
        with store.transaction() as tx:
            _swap_in(tx)
        return processed
    finally:
        store.close()


# Rows the search for a cut fetches at a time: it stops at the first event after the moment, so
# a small page keeps what it fetches (not decodes) beyond the moment small.
CUT_PAGE = 1_000


@dataclass(frozen=True)
class LogCut:
    """Where an as-of replay stops reading the log."""

    moment: datetime
    position: int  # the last event recorded at or before the moment (0: none)
    events: int  # the events stored up to that position, which the replay reads


def cut_at(ledger: Ledger, store: ReadStore, moment: datetime) -> LogCut:
    """The log as it stood at ``moment``: up to the last event before the first one recorded
    after it. The search starts after the last day sealed before the moment's day (JST): a
    seal's events were all recorded before its day ended, so none of them is after the moment.
    It reads only the recorded time of each event from there to the first one after the moment.
    An event whose time cannot be read (it cannot be decoded either) is passed over: the
    projection could only quarantine it."""
    position = _sealed_before(store, jst_date(moment))
    for raw in iter_raw(store, position, page=CUT_PAGE):
        recorded = recorded_at(ledger.mapper, raw)
        if recorded is None:
            continue
        if recorded > moment:
            break
        position = raw.position
    return LogCut(moment, position, count_between(store, 0, position + 1))


def _sealed_before(store: ReadStore, day: date) -> int:
    """The last position of the last day sealed before ``day`` (0: none)."""
    with store.read() as tx:
        rows = tx.execute("SELECT MAX(last_position) FROM daily_seals WHERE day < %s", [day])
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def recorded_at(mapper: Mapper[Any], raw: RawEvent) -> datetime | None:
    """An event's recorded time, read without building the event (None: undecodable)."""
    try:
        timestamp = mapper.transcoder.decode(plain_state(mapper, raw.state))["timestamp"]
    except Exception:  # encrypted with another key, corrupted, not the transcoder's format
        return None
    return timestamp if isinstance(timestamp, datetime) else None


def replay_as_of(
    ledger: Ledger,
    as_of: datetime,
    into: Path,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH,
    cut: LogCut | None = None,
) -> ReadStore:
    """Project the log up to ``as_of`` (its cut, found here unless given) into a fresh SQLite
    file; return its store. No event after the cut is read."""
    if cut is None:
        live = ReadStore(ledger.settings)
        try:
            cut = cut_at(ledger, live, as_of)
        finally:
            live.close()
    if into.exists():
        into.unlink()
    # Resolved here: "sqlite:///" + a relative path would read as an absolute one.
    settings = Settings(database_url=f"sqlite:///{into.resolve()}")
    migrate(settings)
    store = ReadStore(settings)
    runner = LogFollower(ledger, store, batch_size=batch_size)
    runner.stop = cut.position
    runner.progress = progress
    runner.catch_up(until=cut.position)
    return store


def _create_next_tables(tx: Tx) -> None:
    for table in READ_MODEL_TABLES:
        tx.execute(f"DROP TABLE IF EXISTS {table}{NEXT}")
        if tx.sqlite:
            for (sql,) in tx.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL "
                "ORDER BY type DESC",
                [table],
            ):
                tx.execute(_renamed_for_next(sql, table))
        else:
            tx.execute(f"CREATE TABLE {table}{NEXT} (LIKE {table} INCLUDING ALL)")


def _renamed_for_next(sql: str, table: str) -> str:
    """SQLite has no CREATE TABLE … LIKE: copy the DDL with the table (and index) renamed."""
    # After a swap SQLite keeps the renamed table's DDL with the name quoted: accept both.
    sql = re.sub(rf'^CREATE TABLE "?{table}"?(?=[ (])', f"CREATE TABLE {table}{NEXT}", sql)
    return re.sub(
        rf'^CREATE (UNIQUE )?INDEX "?(\w+)"? ON "?{table}"?(?=[ (])',
        rf"CREATE \1INDEX \2{NEXT} ON {table}{NEXT}",
        sql,
    )


def _swap_in(tx: Tx) -> None:
    # Positions of projections this rebuild did not run (the jobs') stay as they were: their
    # tables are not rebuilt either.
    tx.execute(f"INSERT INTO projection_positions{NEXT} SELECT * FROM projection_positions "
               f"WHERE name NOT IN (SELECT name FROM projection_positions{NEXT})")
    # Nor does the rebuild meet again the events the jobs' projection quarantined: they stay
    # listed, for `ledger quarantine retry` to give to that projection.
    jobs_events = ", ".join(["%s"] * len(JOBS_EVENTS))
    tx.execute(f"INSERT INTO quarantined_events{NEXT} SELECT * FROM quarantined_events "
               f"WHERE event_type IN ({jobs_events}) "
               f"AND position NOT IN (SELECT position FROM quarantined_events{NEXT})",
               sorted(JOBS_EVENTS))
    for table in READ_MODEL_TABLES:
        tx.execute(f"DROP TABLE {table}")
        tx.execute(f"ALTER TABLE {table}{NEXT} RENAME TO {table}")
        if tx.sqlite:  # give the indexes their migration names back
            for name, sql in tx.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL",
                [table],
            ):
                if name.endswith(NEXT):
                    tx.execute(f"DROP INDEX {name}")
                    tx.execute(sql.replace(f"INDEX {name} ", f"INDEX {name[: -len(NEXT)]} ", 1))
