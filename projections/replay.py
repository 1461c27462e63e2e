"""Replays: rebuild the read models from the whole log, or answer "as of" a past moment.

A rebuild writes into fresh ``<table>__next`` tables while the live tables keep answering, then
swaps them in one transaction. An as-of replay writes into a separate SQLite file and never touches
the live tables, so an auditor can compare then and now.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ledger.application import Ledger
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from projections.follower import DEFAULT_BATCH, LogFollower
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


def replay_as_of(
    ledger: Ledger,
    as_of: datetime,
    into: Path,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> ReadStore:
    """Project the events recorded up to ``as_of`` into a fresh SQLite file; return its store."""
    if into.exists():
        into.unlink()
    # Resolved here: "sqlite:///" + a relative path would read as an absolute one.
    settings = Settings(database_url=f"sqlite:///{into.resolve()}")
    migrate(settings)
    store = ReadStore(settings)
    runner = LogFollower(ledger, store, batch_size=batch_size, as_of=as_of)
    runner.progress = progress
    runner.catch_up()
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
