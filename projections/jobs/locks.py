"""One run of a job at a time, across threads and processes.

PostgreSQL: a session advisory lock on a connection held for the whole run; the server releases it
if the process dies. SQLite has no such thing: a row in ``job_locks`` taken inside
``BEGIN IMMEDIATE`` (so two takers are serialised by the database's write lock), with an owner and
an expiry, so a crashed owner blocks the job for at most the lock's lifetime.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg

from ledger import clock
from projections.store import ReadStore, as_datetime


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def advisory_key(job: str) -> int:
    """A stable signed 64-bit key per job name (the advisory lock's key space)."""
    digest = hashlib.sha256(f"ccus-ledger-job:{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def job_lock(
    store: ReadStore, job: str, ttl: timedelta, owner: str | None = None
) -> Iterator[bool]:
    """Yield True with the job's lock held, or False at once if someone else holds it."""
    owner = owner or owner_name()
    if store.sqlite:
        with _sqlite_lock(store, job, ttl, owner) as held:
            yield held
    else:
        with _postgres_lock(store, job) as held:
            yield held


@contextmanager
def _postgres_lock(store: ReadStore, job: str) -> Iterator[bool]:
    conn: Any = psycopg.connect(store.settings.database_url, autocommit=True)
    try:
        key = advisory_key(job)
        held = bool(conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0])
        try:
            yield held
        finally:
            if held:
                conn.execute("SELECT pg_advisory_unlock(%s)", [key])
    finally:
        conn.close()


@contextmanager
def _sqlite_lock(store: ReadStore, job: str, ttl: timedelta, owner: str) -> Iterator[bool]:
    # A store of its own: the lock commits at once, whatever the job does with its own store.
    lock_store = ReadStore(store.settings)
    try:
        held = _take(lock_store, job, ttl, owner)
        try:
            yield held
        finally:
            if held:
                with lock_store.transaction() as tx:
                    tx.execute("DELETE FROM job_locks WHERE job = %s AND owner = %s", [job, owner])
    finally:
        lock_store.close()


def _take(store: ReadStore, job: str, ttl: timedelta, owner: str) -> bool:
    now = clock.now()
    with store.transaction() as tx:  # BEGIN IMMEDIATE: one taker at a time
        rows = tx.execute("SELECT owner, expires_at FROM job_locks WHERE job = %s", [job])
        if rows:
            holder, expires_at = rows[0]
            expiry = as_datetime(expires_at)
            if holder != owner and expiry is not None and expiry > now:
                return False
        tx.execute("INSERT INTO job_locks (job, owner, expires_at) VALUES (%s, %s, %s) "
                   "ON CONFLICT (job) DO UPDATE SET owner = excluded.owner, "
                   "expires_at = excluded.expires_at", [job, owner, now + ttl])
    return True
