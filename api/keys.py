"""API keys: bearer tokens for the HTTP API, stored as SHA-256 hashes in `api_keys`.

A token reads ``ldg_<key_id>_<secret>``; the secret is 32 random bytes and only its hash is kept,
so the token is shown once, when the key is created. Authentication looks the key up by its ID and
compares hashes in constant time. Each key acts as one party (`Actor`): a reader key as its reader
ID, a business key as its business ID, a worker key as the technician ID, an auditor or admin key
as a person's name.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg_pool import ConnectionPool

from ledger import clock
from ledger.actors import Actor, Role
from ledger.domain.text import check_text
from ledger.errors import InvalidState, InvalidValue, UnknownReference
from ledger.ids import BusinessId, ReaderId, TechnicianId
from ledger.settings import Settings
from projections.store import Tx

TOKEN_PREFIX = "ldg"
KEY_ROLES = tuple(r for r in Role if r is not Role.SYSTEM)  # scheduled jobs run in-process
SUBJECT_TYPES: dict[Role, type[str]] = {
    Role.READER: ReaderId, Role.PRIME_CONTRACTOR: BusinessId, Role.EMPLOYER: BusinessId,
    Role.WORKER: TechnicianId,
}
# Compared against when a token names no stored key, so a miss costs what a hit does.
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()
_COLUMNS = "key_id, role, subject_id, created_at, revoked_at"
_ACTIVE_KEY = ("SELECT token_hash, role, subject_id FROM api_keys "
               "WHERE key_id = %s AND revoked_at IS NULL")


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    role: Role
    subject_id: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def actor(self) -> Actor:
        return Actor(self.role, self.subject_id)


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str  # shown once; only its hash is stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed token, else None."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or len(key_id) != 16 or not secret:
        return None
    return key_id, secret


def check_subject(role: Role, subject_id: str) -> str:
    """A key's subject must be what the role acts as (reader, business, technician ID, name)."""
    if role not in KEY_ROLES:
        raise InvalidValue("role", "key.role", f"{role.value} keys are not issued")
    id_type = SUBJECT_TYPES.get(role)
    if id_type is not None:
        return str(id_type(subject_id))
    name = (subject_id or "").strip()
    if not name or len(name) > 100:
        raise InvalidValue("name", "key.name", "an auditor or admin key needs a name (≤ 100)")
    return check_text(name, "name")


class KeyStore:
    """The `api_keys` table on the ledger's database (SQLite or PostgreSQL)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ConnectionPool[Any] | None = None
        if settings.is_postgres:
            self._pool = ConnectionPool(
                settings.database_url, min_size=1, max_size=8, open=True,
                kwargs={"autocommit": True},
            )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self._pool is not None:
            with self._pool.connection() as conn, conn.cursor() as cursor:
                yield cursor
            return
        conn = sqlite3.connect(self.settings.sqlite_path, timeout=10)
        try:
            with conn:  # commits on success
                yield conn.cursor()
        finally:
            conn.close()

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._pool is None:
            statement = statement.replace("%s", "?")
        with self._cursor() as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall()) if cursor.description else []

    def _timestamp(self, moment: datetime) -> Any:
        # SQLite keeps text: UTC, so that the text sorts in time order
        return moment if self._pool is not None else moment.astimezone(UTC).isoformat()

    def create(self, role: Role, subject_id: str) -> IssuedKey:
        subject_id = check_subject(role, subject_id)
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        created_at = clock.now()
        self._execute(
            "INSERT INTO api_keys (key_id, token_hash, role, subject_id, created_at) "
            "VALUES (%s, %s, %s, %s, %s)",
            (key_id, hash_secret(secret), role.value, subject_id, self._timestamp(created_at)),
        )
        key = ApiKey(key_id, role, subject_id, created_at, None)
        return IssuedKey(key, f"{TOKEN_PREFIX}_{key_id}_{secret}")

    def list(self) -> list[ApiKey]:
        rows = self._execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, key_id")
        return [_key(row) for row in rows]

    def get(self, key_id: str) -> ApiKey:
        rows = self._execute(f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = %s", (key_id,))
        if not rows:
            raise UnknownReference("key_id", "key_id.exists", f"{key_id} is not a key")
        return _key(rows[0])

    def revoke(self, key_id: str) -> ApiKey:
        key = self.get(key_id)
        if key.revoked_at is not None:
            raise InvalidState("key_id", "key.revoked", f"{key_id} is revoked already")
        revoked_at = clock.now()
        self._execute("UPDATE api_keys SET revoked_at = %s WHERE key_id = %s",
                      (self._timestamp(revoked_at), key_id))
        return ApiKey(key.key_id, key.role, key.subject_id, key.created_at, revoked_at)

    def ping(self) -> None:
        """Raises if the database or the `api_keys` table is not there."""
        self._execute("SELECT count(*) FROM api_keys WHERE key_id = %s", ("",))

    def active_count(self, role: Role) -> int:
        rows = self._execute(
            "SELECT count(*) FROM api_keys WHERE role = %s AND revoked_at IS NULL", (role.value,)
        )
        return int(rows[0][0])

    def authenticate(self, token: str) -> Actor | None:
        """The acting party of a valid, unrevoked token; None for anything else."""
        parts = split_token(token)
        rows = self._execute(_ACTIVE_KEY, (parts[0],)) if parts else []
        return _actor(rows, parts[1] if parts else token)


def authenticate_with(tx: Tx, token: str) -> Actor | None:
    """`KeyStore.authenticate` in a read transaction on the ledger's database (the API's reads
    check the token on the connection they read with)."""
    parts = split_token(token)
    rows = tx.execute(_ACTIVE_KEY, [parts[0]]) if parts else []
    return _actor(rows, parts[1] if parts else token)


def _actor(rows: Sequence[tuple[Any, ...]], secret: str) -> Actor | None:
    """The party of the key row found for a token, if the token's secret is the key's; the
    hashes are compared even when no row was found, so a miss costs what a hit does."""
    stored = rows[0][0] if rows else _DUMMY_HASH
    if not hmac.compare_digest(stored, hash_secret(secret)) or not rows:
        return None
    return Actor(Role(rows[0][1]), rows[0][2])


def _key(row: tuple[Any, ...]) -> ApiKey:
    key_id, role, subject_id, created_at, revoked_at = row
    revoked = None if revoked_at is None else _moment(revoked_at)
    return ApiKey(key_id, Role(role), subject_id, _moment(created_at), revoked)


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
