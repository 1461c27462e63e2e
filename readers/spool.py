"""The reader's local durable spool: every tap is committed to SQLite (WAL, synchronous=FULL)
before the worker hears the beep, and stays there until the ledger has acknowledged it.

Its sequence numbers make the tap IDs (``<reader_id>:<sequence>``) the ledger deduplicates on, so
the next sequence is stored in the same transaction as the tap that used it: after a crash or a
restart no ID is ever handed out twice, and a re-sent tap is recognised as a duplicate.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.clock import JST, Clock, SystemClock, require_aware, work_date_of
from ledger.directions import Direction, DirectionMode
from ledger.ids import ReaderId
from readers.delivery import TapResult
from readers.identity import CardIdentity
from readers.policy import direction_for, is_repeat

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS taps (
    sequence INTEGER PRIMARY KEY,
    tap_id TEXT NOT NULL,
    identity TEXT NOT NULL,          -- 'card:<id>' or 'technician:<id>': debounce, auto direction
    card_id TEXT,
    technician_id TEXT,
    direction TEXT NOT NULL,
    reader_time TEXT NOT NULL,       -- the reader's own clock, ISO 8601 in JST
    work_date TEXT NOT NULL,         -- JST date of reader_time
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | dead (rejected as malformed)
    server_status TEXT,              -- accepted | duplicate | flagged | conflict | rejected
    flags TEXT,
    reason TEXT,
    position INTEGER,
    settled_at TEXT
);
CREATE INDEX IF NOT EXISTS taps_pending ON taps (sequence) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS taps_identity ON taps (identity, sequence);
"""
COLUMNS = "sequence, tap_id, card_id, technician_id, direction, reader_time, state"


class SpoolError(Exception):
    """The spool cannot be used as asked (missing, another reader's, not on a local disk)."""


@dataclass(frozen=True)
class SpooledTap:
    sequence: int
    tap_id: str
    reader_id: str
    card_id: str | None
    technician_id: str | None
    direction: Direction
    reader_time: datetime
    state: str = PENDING


@dataclass(frozen=True)
class Settled:
    delivered: int
    dead: int


@dataclass(frozen=True)
class SpoolStatus:
    path: Path
    reader_id: str
    pending: int
    delivered: int
    dead: int
    next_sequence: int
    oldest_pending: SpooledTap | None
    last_upload_at: datetime | None
    clock_offset_seconds: float | None
    last_error: str | None
    last_error_at: datetime | None


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode != "wal":
        db.close()
        raise SpoolError(f"{path}: SQLite refused WAL mode ({mode}); put the spool on a local disk")
    # In WAL mode, FULL syncs the log at every commit: a tap the worker was told about survives
    # a power cut, not only a crash of this process.
    db.execute("PRAGMA synchronous=FULL")
    return db


class Spool:
    """One reader's spool file. Thread-safe: the card monitor appends while the uploader reads."""

    def __init__(
        self, path: Path | str, reader_id: str, *, first_sequence: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.path = Path(path)
        self.reader_id = str(ReaderId(reader_id))
        self._lock = threading.Lock()
        self._db = _connect(self.path)
        try:
            self._db.executescript(SCHEMA)  # idempotent; executescript commits on its own
            with self._write() as db:
                self._claim(db, first_sequence, clock or SystemClock())
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def open_existing(cls, path: Path | str) -> Spool:
        """Open a spool that must exist already (``status``, ``upload``): never create one."""
        path = Path(path)
        if not path.is_file():
            raise SpoolError(f"no spool at {path}")
        db = sqlite3.connect(path, timeout=30)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'reader_id'").fetchone()
        except sqlite3.DatabaseError as error:
            raise SpoolError(f"{path} is not a reader spool ({error})") from None
        finally:
            db.close()
        if row is None:
            raise SpoolError(f"{path} is not a reader spool (no reader_id)")
        return cls(path, row[0])

    def _claim(self, db: sqlite3.Connection, first_sequence: int | None, clock: Clock) -> None:
        owner = _meta(db, "reader_id")
        if owner is not None and owner != self.reader_id:
            raise SpoolError(f"{self.path} is the spool of reader {owner}, not {self.reader_id}")
        if owner is None:
            if first_sequence is None:
                # A new spool starts at the clock in microseconds, not at 1: if a broken spool is
                # ever replaced, its successor can never reuse a tap ID the ledger has stored
                # already (the new tap would be taken for a duplicate and silently dropped).
                first_sequence = int(clock.now().timestamp() * 1_000_000)
            _set_meta(db, "reader_id", self.reader_id)
            _set_meta(db, "next_sequence", str(first_sequence))

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: it takes SQLite's write lock before reading, so the
        sequence read and the tap written cannot interleave with another writer."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    # -- taps in -------------------------------------------------------------------------------
    def record(
        self, identity: CardIdentity, reader_time: datetime, mode: DirectionMode,
        debounce: timedelta,
    ) -> SpooledTap | None:
        """Store one tap durably and return it; None when it repeats the card's last tap."""
        with self._write() as db:
            return self._record(db, identity, reader_time, mode, debounce)

    def record_all(
        self, taps: Iterable[tuple[CardIdentity, datetime]], mode: DirectionMode,
        debounce: timedelta,
    ) -> list[SpooledTap]:
        """Many taps in one transaction: importing a backlog (the benchmark builds one so)."""
        with self._write() as db:
            recorded = (self._record(db, identity, at, mode, debounce) for identity, at in taps)
            return [tap for tap in recorded if tap is not None]

    def _record(
        self, db: sqlite3.Connection, identity: CardIdentity, reader_time: datetime,
        mode: DirectionMode, debounce: timedelta,
    ) -> SpooledTap | None:
        reader_time = require_aware(reader_time, "reader_time").astimezone(JST)
        last = db.execute(
            "SELECT reader_time FROM taps WHERE identity = ? ORDER BY sequence DESC LIMIT 1",
            (identity.key,),
        ).fetchone()
        if last is not None and is_repeat(datetime.fromisoformat(last[0]), reader_time, debounce):
            return None
        work_date = work_date_of(reader_time).isoformat()
        (taps_today,) = db.execute(
            "SELECT count(*) FROM taps WHERE identity = ? AND work_date = ?",
            (identity.key, work_date),
        ).fetchone()
        sequence = int(_meta(db, "next_sequence") or 1)
        tap = SpooledTap(
            sequence, f"{self.reader_id}:{sequence}", self.reader_id, identity.card_id,
            identity.technician_id, direction_for(mode, taps_today), reader_time,
        )
        db.execute(
            "INSERT INTO taps (sequence, tap_id, identity, card_id, technician_id, direction,"
            " reader_time, work_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (sequence, tap.tap_id, identity.key, tap.card_id, tap.technician_id,
             tap.direction.value, reader_time.isoformat(), work_date),
        )
        _set_meta(db, "next_sequence", str(sequence + 1))
        return tap

    # -- taps out ------------------------------------------------------------------------------
    def pending(self, limit: int) -> list[SpooledTap]:
        """The oldest undelivered taps, in the order they were made."""
        with self._read() as db:
            rows = db.execute(
                f"SELECT {COLUMNS} FROM taps WHERE state = 'pending' ORDER BY sequence LIMIT ?",
                (limit,),
            ).fetchall()
        return [self._tap(row) for row in rows]

    def settle(
        self, results: Sequence[TapResult], at: datetime, clock_offset_seconds: float | None = None,
    ) -> Settled:
        """Apply the ledger's acknowledgement: delivered taps leave the queue, rejected ones go to
        the dead-letter state. Results for unknown taps and unknown statuses change nothing."""
        delivered, dead = [], []
        settled_at = _utc(at)
        for result in results:
            sequence = self._sequence_of(result.tap_id)
            if sequence is None:
                continue
            if result.delivered:
                delivered.append((result.status, ",".join(result.flags), result.position,
                                  settled_at, sequence, result.tap_id))
            elif result.rejected:
                dead.append((result.reason or "rejected", settled_at, sequence, result.tap_id))
        with self._write() as db:
            done = db.executemany(
                "UPDATE taps SET state = 'delivered', server_status = ?, flags = ?, position = ?,"
                " settled_at = ? WHERE sequence = ? AND tap_id = ? AND state = 'pending'",
                delivered,
            ).rowcount
            failed = db.executemany(
                "UPDATE taps SET state = 'dead', server_status = 'rejected', reason = ?,"
                " settled_at = ? WHERE sequence = ? AND tap_id = ? AND state = 'pending'",
                dead,
            ).rowcount
            _set_meta(db, "last_upload_at", settled_at)
            if clock_offset_seconds is not None:
                _set_meta(db, "clock_offset_seconds", repr(clock_offset_seconds))
        return Settled(done, failed)

    def _sequence_of(self, tap_id: str) -> int | None:
        reader_id, _, number = tap_id.rpartition(":")
        if reader_id != self.reader_id or not number.isdigit():
            return None
        return int(number)

    def note_failure(self, message: str, at: datetime) -> None:
        with self._write() as db:
            _set_meta(db, "last_error", message)
            _set_meta(db, "last_error_at", at.isoformat())

    def requeue_dead(self) -> int:
        """Send dead-lettered taps again (after the cause of their rejection was fixed)."""
        with self._write() as db:
            return db.execute(
                "UPDATE taps SET state = 'pending', server_status = NULL, reason = NULL,"
                " settled_at = NULL WHERE state = 'dead'"
            ).rowcount

    def prune_delivered(self, settled_before: datetime) -> int:
        """Forget taps delivered before ``settled_before``; pending and dead ones stay."""
        with self._write() as db:
            return db.execute(
                "DELETE FROM taps WHERE state = 'delivered' AND settled_at < ?",
                (_utc(settled_before),),
            ).rowcount

    # -- inspection ----------------------------------------------------------------------------
    def taps(self, state: str | None = None) -> list[SpooledTap]:
        where = "" if state is None else "WHERE state = ?"
        with self._read() as db:
            rows = db.execute(f"SELECT {COLUMNS} FROM taps {where} ORDER BY sequence",
                              () if state is None else (state,)).fetchall()
        return [self._tap(row) for row in rows]

    def dead_letters(self, limit: int = 20) -> list[tuple[SpooledTap, str]]:
        with self._read() as db:
            rows = db.execute(
                f"SELECT {COLUMNS}, reason FROM taps WHERE state = 'dead' ORDER BY sequence"
                " LIMIT ?", (limit,)).fetchall()
        return [(self._tap(row[:-1]), row[-1]) for row in rows]

    def status(self) -> SpoolStatus:
        with self._read() as db:
            counts = dict(db.execute("SELECT state, count(*) FROM taps GROUP BY state").fetchall())
            oldest = db.execute(
                f"SELECT {COLUMNS} FROM taps WHERE state = 'pending' ORDER BY sequence LIMIT 1"
            ).fetchone()
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        skew = meta.get("clock_offset_seconds")
        return SpoolStatus(
            path=self.path, reader_id=self.reader_id, pending=counts.get(PENDING, 0),
            delivered=counts.get(DELIVERED, 0), dead=counts.get(DEAD, 0),
            next_sequence=int(meta["next_sequence"]),
            oldest_pending=None if oldest is None else self._tap(oldest),
            last_upload_at=_time(meta.get("last_upload_at")),
            clock_offset_seconds=None if skew is None else float(skew),
            last_error=meta.get("last_error"), last_error_at=_time(meta.get("last_error_at")),
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tap(self, row: Sequence[object]) -> SpooledTap:
        sequence, tap_id, card_id, technician_id, direction, reader_time, state = row
        return SpooledTap(
            int(str(sequence)), str(tap_id), self.reader_id,
            None if card_id is None else str(card_id),
            None if technician_id is None else str(technician_id),
            Direction(direction), datetime.fromisoformat(str(reader_time)), str(state),
        )


def _meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _utc(moment: datetime) -> str:
    """One fixed format, so that stored times compare correctly as text."""
    return require_aware(moment, "time").astimezone(UTC).isoformat(timespec="microseconds")


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
