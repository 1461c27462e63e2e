"""The `replay_jobs` table (migration 0020): as-of replays asked for, their progress, and their
answers until they are removed. Every process of the API reads and writes the same rows, so any
of them answers a job's status, and a job is run by whichever process claims it first."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import orjson

from ledger.settings import Settings
from ledger.storage.sql import Database, Statements, as_date, as_datetime, as_moment

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
# PostgreSQL: claims take this transaction-level advisory lock, so that two processes counting
# the jobs running cannot both start one past the limit. (SQLite: BEGIN IMMEDIATE does that.)
CLAIM_LOCK = 0x7265706C  # "repl"

COLUMNS = ("replay_id, requested_by, as_of, technician_id, date_from, date_to, status, "
           "requested_at, started_at, finished_at, kept_until, owner, heartbeat_at, "
           "stop_position, events_to_read, events_read, result, failure")


@dataclass(frozen=True)
class ReplayRequest:
    """What an auditor asks: a worker's career summary over a span, as of a moment."""

    as_of: datetime
    technician_id: str
    date_from: date
    date_to: date


@dataclass(frozen=True)
class ReplayJob:
    replay_id: str
    requested_by: str  # role:id
    as_of: datetime
    technician_id: str
    date_from: date
    date_to: date
    status: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    kept_until: datetime | None
    owner: str | None
    heartbeat_at: datetime | None
    stop_position: int | None
    events_to_read: int | None
    events_read: int
    result: dict[str, Any] | None
    failure: dict[str, Any] | None

    @classmethod
    def of_row(cls, row: tuple[Any, ...]) -> ReplayJob:
        (replay_id, requested_by, as_of, technician_id, date_from, date_to, status, requested_at,
         started_at, finished_at, kept_until, owner, heartbeat_at, stop_position,
         events_to_read, events_read, result, failure) = row
        from_day, to_day = as_date(date_from), as_date(date_to)
        assert from_day is not None and to_day is not None
        return cls(
            str(replay_id), str(requested_by), as_moment(as_of), str(technician_id), from_day,
            to_day, str(status), as_moment(requested_at), as_datetime(started_at),
            as_datetime(finished_at), as_datetime(kept_until), owner, as_datetime(heartbeat_at),
            None if stop_position is None else int(stop_position),
            None if events_to_read is None else int(events_to_read), int(events_read),
            None if result is None else orjson.loads(result),
            None if failure is None else orjson.loads(failure))


class ReplayJobs:
    """Statements on `replay_jobs`. Those that change a running job name its owner, so a
    process never writes over a job another process has taken over or failed."""

    def __init__(self, settings: Settings) -> None:
        self._database = Database(settings, max_connections=4)

    def close(self) -> None:
        self._database.close()

    def add(self, replay_id: str, requested_by: str, request: ReplayRequest,
            now: datetime) -> None:
        self._database.execute(
            "INSERT INTO replay_jobs (replay_id, requested_by, as_of, technician_id, date_from, "
            "date_to, status, requested_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (replay_id, requested_by, request.as_of, request.technician_id, request.date_from,
             request.date_to, QUEUED, now))

    def find(self, replay_id: str, now: datetime) -> ReplayJob | None:
        """The job, unless it has been kept its time (removed or about to be)."""
        rows = self._database.execute(
            f"SELECT {COLUMNS} FROM replay_jobs WHERE replay_id = %s "
            "AND (kept_until IS NULL OR kept_until > %s)", (replay_id, now))
        return ReplayJob.of_row(rows[0]) if rows else None

    def of_requester(self, requested_by: str, now: datetime,
                     before: tuple[datetime, str] | None, limit: int) -> list[ReplayJob]:
        """A requester's jobs, newest first, after a page's last (keyset, in SQL)."""
        where, params = "", [requested_by, now]
        if before is not None:
            where = " AND (requested_at < %s OR (requested_at = %s AND replay_id < %s))"
            params += [before[0], before[0], before[1]]
        rows = self._database.execute(
            f"SELECT {COLUMNS} FROM replay_jobs WHERE requested_by = %s "
            f"AND (kept_until IS NULL OR kept_until > %s){where} "
            "ORDER BY requested_at DESC, replay_id DESC LIMIT %s", (*params, limit))
        return [ReplayJob.of_row(row) for row in rows]

    def claim(self, owner: str, at_once: int, now: datetime) -> ReplayJob | None:
        """Start the oldest queued job for `owner`, unless `at_once` jobs run already."""
        with self._database.transaction() as tx:
            _serialize_claims(tx)
            running = tx.execute("SELECT COUNT(*) FROM replay_jobs WHERE status = %s",
                                 [RUNNING])
            if int(running[0][0]) >= at_once:
                return None
            rows = tx.execute(f"SELECT {COLUMNS} FROM replay_jobs WHERE status = %s "
                              "ORDER BY requested_at, replay_id LIMIT 1", [QUEUED])
            if not rows:
                return None
            job = ReplayJob.of_row(rows[0])
            tx.execute("UPDATE replay_jobs SET status = %s, owner = %s, started_at = %s, "
                       "heartbeat_at = %s WHERE replay_id = %s",
                       [RUNNING, owner, now, now, job.replay_id])
        return replace(job, status=RUNNING, owner=owner, started_at=now, heartbeat_at=now)

    def cut(self, replay_id: str, owner: str, stop_position: int, events: int) -> None:
        self._database.execute(
            "UPDATE replay_jobs SET stop_position = %s, events_to_read = %s "
            "WHERE replay_id = %s AND owner = %s AND status = %s",
            (stop_position, events, replay_id, owner, RUNNING))

    def progressed(self, replay_id: str, owner: str, events: int, now: datetime) -> None:
        self._database.execute(
            "UPDATE replay_jobs SET events_read = events_read + %s, heartbeat_at = %s "
            "WHERE replay_id = %s AND owner = %s AND status = %s",
            (events, now, replay_id, owner, RUNNING))

    def finish(self, replay_id: str, owner: str, now: datetime, kept_until: datetime, *,
               result: dict[str, Any] | None = None,
               failure: dict[str, Any] | None = None) -> None:
        """Done with `result`, or failed with `failure` (a problem: status, field, rule,
        detail)."""
        self._database.execute(
            "UPDATE replay_jobs SET status = %s, finished_at = %s, kept_until = %s, result = %s, "
            "failure = %s WHERE replay_id = %s AND owner = %s AND status = %s",
            (DONE if failure is None else FAILED, now, kept_until, _json(result),
             _json(failure), replay_id, owner, RUNNING))

    def running(self) -> list[ReplayJob]:
        rows = self._database.execute(
            f"SELECT {COLUMNS} FROM replay_jobs WHERE status = %s", [RUNNING])
        return [ReplayJob.of_row(row) for row in rows]

    def beat(self, owner: str, now: datetime) -> None:
        """The owner is alive: stamp its running jobs."""
        self._database.execute("UPDATE replay_jobs SET heartbeat_at = %s "
                               "WHERE owner = %s AND status = %s", (now, owner, RUNNING))

    def abandon(self, replay_id: str, owner: str | None, now: datetime, kept_until: datetime,
                failure: dict[str, Any]) -> bool:
        """Fail a running job whose process is gone; False if it moved on meanwhile."""
        rows = self._database.execute(
            "UPDATE replay_jobs SET status = %s, finished_at = %s, kept_until = %s, "
            "failure = %s WHERE replay_id = %s AND owner = %s AND status = %s "
            "RETURNING replay_id",
            (FAILED, now, kept_until, _json(failure), replay_id, owner, RUNNING))
        return bool(rows)

    def requeue(self, owner: str) -> int:
        """Give back the owner's running jobs (it is stopping): another process starts them
        afresh."""
        rows = self._database.execute(
            "UPDATE replay_jobs SET status = %s, owner = NULL, started_at = NULL, "
            "heartbeat_at = NULL, stop_position = NULL, events_to_read = NULL, events_read = 0 "
            "WHERE owner = %s AND status = %s RETURNING replay_id", (QUEUED, owner, RUNNING))
        return len(rows)

    def queued(self) -> bool:
        return bool(self._database.execute(
            "SELECT 1 FROM replay_jobs WHERE status = %s LIMIT 1", [QUEUED]))

    def remove_expired(self, now: datetime) -> int:
        rows = self._database.execute(
            "DELETE FROM replay_jobs WHERE kept_until <= %s RETURNING replay_id", [now])
        return len(rows)


def _serialize_claims(tx: Statements) -> None:
    if tx.sqlite:
        # The transaction began deferred: end it and take the write lock before reading.
        tx.cursor.connection.commit()
        tx.execute("BEGIN IMMEDIATE")
    else:
        tx.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK])


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else orjson.dumps(value).decode()
