"""API keys: bearer tokens for the HTTP API, stored as SHA-256 hashes in `api_keys`.

A token reads ``ldg_<key_id>_<secret>``; the secret is 32 random bytes and only its hash is kept,
so the token is shown once, when the key is created. Authentication looks the key up by its ID and
compares hashes in constant time. Each key acts as one party (`Actor`): a reader key as its reader
ID, a business or site-manager key as its business ID, a worker key as the technician ID, an
auditor or admin key as a person's name. A key may be scoped to sites or workers (`Scope`), and
has an expiry (keys from the command line may have none: they bootstrap the others). Every issue,
expiry and revocation is appended to `key_events` in the transaction that makes it.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import json
import secrets
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ledger import clock
from ledger.actors import WHOLE, Actor, Role, Scope
from ledger.domain.text import check_text
from ledger.errors import InvalidState, InvalidValue, UnknownReference
from ledger.ids import BusinessId, ReaderId, SiteId, TechnicianId
from ledger.settings import Settings
from ledger.storage.sql import Database, Rows, Statements, as_datetime, as_moment

TOKEN_PREFIX = "ldg"
KEY_ROLES = tuple(r for r in Role if r is not Role.SYSTEM)  # scheduled jobs run in-process
SUBJECT_TYPES: dict[Role, type[str]] = {
    Role.READER: ReaderId, Role.PRIME_CONTRACTOR: BusinessId, Role.EMPLOYER: BusinessId,
    Role.SITE_MANAGER: BusinessId, Role.WORKER: TechnicianId, Role.ORDERER: BusinessId,
}
BUSINESS_KEY_ROLES = (Role.PRIME_CONTRACTOR, Role.EMPLOYER, Role.SITE_MANAGER)
SCOPE_LIMIT = 1000  # sites or workers in one key's scope
# Compared against when a token names no stored key, so a miss costs what a hit does.
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()
_COLUMNS = ("key_id, role, subject_id, created_at, revoked_at, expires_at, issued_by, holder, "
            "scope_kind, approves")
# The statements a token is checked with (the API bench's floor runs the very same ones).
ACTIVE_KEY = ("SELECT token_hash, role, subject_id, expires_at, scope_kind, approves "
               "FROM api_keys WHERE key_id = %s AND revoked_at IS NULL")
SCOPE_OF = "SELECT subject_id FROM api_key_scopes WHERE key_id = %s"


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    role: Role
    subject_id: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None
    issued_by: str | None = None
    holder: str | None = None
    scope: Scope = WHOLE

    @property
    def actor(self) -> Actor:
        return Actor(self.role, self.subject_id, self.scope)

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str  # shown once; only its hash is stored


@dataclass(frozen=True)
class KeyEvent:
    """One issue, expiry or revocation: which key, when, who did it and with which key."""

    event_id: str
    recorded_at: datetime
    key_id: str
    kind: str  # issued | expired | revoked
    actor: str  # role:id, or cli:<operator>
    by_key_id: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class Issuer:
    """Who issues, expires or revokes: the key used (None from the command line) and its party."""

    actor: str
    key_id: str | None = None

    @classmethod
    def of(cls, key: ApiKey) -> Issuer:
        return cls(str(key.actor), key.key_id)


COMMAND_LINE = Issuer("cli:operator")


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


def check_scope(role: Role, scope: Scope) -> Scope:
    """Business keys may be scoped to sites or to workers (not both); a site manager's key
    always names its sites; only a site manager's key carries the grant to approve."""
    if scope.sites is not None and scope.workers is not None:
        raise InvalidValue("scope", "key.scope.kind", "a key is scoped to sites or to workers")
    if not scope.whole and role not in BUSINESS_KEY_ROLES:
        raise InvalidValue("scope", "key.scope.role", f"{role.value} keys take no scope")
    if role is Role.SITE_MANAGER and not scope.sites:
        raise InvalidValue("scope.sites", "key.scope.site_manager",
                           "a site manager's key names the sites it manages")
    if scope.approves and role is not Role.SITE_MANAGER:
        raise InvalidValue("scope.approves", "key.scope.approves",
                           "only a site manager's key is granted approval")
    for name, ids, id_type in (("sites", scope.sites, SiteId),
                               ("workers", scope.workers, TechnicianId)):
        if ids is not None:
            if not ids or len(ids) > SCOPE_LIMIT:
                raise InvalidValue(f"scope.{name}", "key.scope.size",
                                   f"names 1 to {SCOPE_LIMIT} {name}")
            for value in ids:
                id_type(value)
    return scope


class KeyStore:
    """The `api_keys`, `api_key_scopes` and `key_events` tables on the ledger's database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._database = Database(settings, max_connections=8)

    def close(self) -> None:
        self._database.close()

    @contextmanager
    def _cursor(self) -> Iterator[Statements]:
        """One transaction: a key, its scope and its event are written together or not at all."""
        with self._database.transaction() as statements:
            yield statements

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Rows:
        return self._database.execute(statement, params)

    def create(self, role: Role, subject_id: str, *, scope: Scope = WHOLE,
               expires_at: datetime | None = None, holder: str | None = None,
               issuer: Issuer = COMMAND_LINE) -> IssuedKey:
        subject_id = check_subject(role, subject_id)
        scope = check_scope(role, scope)
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        created_at = clock.now()
        key = ApiKey(key_id, role, subject_id, created_at, None, expires_at, issuer.key_id,
                     holder, scope)
        kind = _kind(scope)
        with self._cursor() as cursor:
            cursor.execute(
                "INSERT INTO api_keys (key_id, token_hash, role, subject_id, created_at, "
                "expires_at, issued_by, holder, scope_kind, approves) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (key_id, hash_secret(secret), role.value, subject_id, created_at,
                 expires_at, issuer.key_id, holder, kind, scope.approves))
            cursor.executemany(
                "INSERT INTO api_key_scopes (key_id, subject_id) VALUES (%s, %s)",
                [(key_id, member) for member in sorted(scope.sites or scope.workers or ())])
            _record(cursor, key, "issued", issuer, created_at)
        return IssuedKey(key, f"{TOKEN_PREFIX}_{key_id}_{secret}")

    def list(self) -> list[ApiKey]:
        with self._cursor() as cursor:
            rows = cursor.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, key_id")
            scopes = _scopes(cursor.execute("SELECT key_id, subject_id FROM api_key_scopes"))
        return [_key(row, scopes[row[0]]) for row in rows]

    def get(self, key_id: str) -> ApiKey:
        with self._cursor() as cursor:
            return _get(cursor, key_id)

    def revoke(self, key_id: str, issuer: Issuer = COMMAND_LINE) -> ApiKey:
        with self._cursor() as cursor:
            key = _get(cursor, key_id)
            if key.revoked_at is not None:
                raise InvalidState("key_id", "key.revoked", f"{key_id} is revoked already")
            revoked_at = clock.now()
            cursor.execute("UPDATE api_keys SET revoked_at = %s WHERE key_id = %s",
                           (revoked_at, key_id))
            revoked = replace(key, revoked_at=revoked_at)
            _record(cursor, revoked, "revoked", issuer, revoked_at)
        return revoked

    def expire(self, key_id: str, issuer: Issuer = COMMAND_LINE) -> ApiKey:
        """End a key's life now (it is refused from the next request on), keeping it listed."""
        with self._cursor() as cursor:
            key = _get(cursor, key_id)
            now = clock.now()
            if key.status(now) != "active":
                raise InvalidState("key_id", "key.active", f"{key_id} is {key.status(now)}")
            cursor.execute("UPDATE api_keys SET expires_at = %s WHERE key_id = %s",
                           (now, key_id))
            expired = replace(key, expires_at=now)
            _record(cursor, expired, "expired", issuer, now)
        return expired

    def events(self, key_ids: Iterable[str] | None = None,
               limit: int | None = 1000) -> builtins.list[KeyEvent]:
        """Key events in recorded order (of the given keys, or all; `limit` None: every one)."""
        rows = self._execute(
            "SELECT event_id, recorded_at, key_id, kind, actor, by_key_id, detail "
            "FROM key_events ORDER BY recorded_at, event_id")
        wanted = None if key_ids is None else set(key_ids)
        found = [KeyEvent(r[0], as_moment(r[1]), r[2], r[3], r[4], r[5], json.loads(r[6]))
                 for r in rows if wanted is None or r[2] in wanted]
        return found[:limit]

    def ping(self) -> None:
        """Raises if the database or the `api_keys` table is not there."""
        self._execute("SELECT count(*) FROM api_keys WHERE key_id = %s", ("",))

    def active_count(self, role: Role) -> int:
        rows = self._execute(
            "SELECT count(*) FROM api_keys WHERE role = %s AND revoked_at IS NULL", (role.value,)
        )
        return int(rows[0][0])

    def authenticate(self, token: str) -> Actor | None:
        """The acting party of a valid, unrevoked, unexpired token; None for anything else."""
        with self._cursor() as cursor:
            return _authenticate(cursor.execute, token)

    def authenticate_key(self, token: str) -> ApiKey | None:
        """The key of a valid, unrevoked, unexpired token; None for anything else."""
        if self.authenticate(token) is None:
            return None
        parts = split_token(token)
        assert parts is not None
        return self.get(parts[0])


def authenticate_with(tx: Statements, token: str) -> Actor | None:
    """`KeyStore.authenticate` in a read transaction on the ledger's database (the API's reads
    check the token on the connection they read with)."""
    return _authenticate(tx.execute, token)


def _authenticate(execute: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]],
                  token: str) -> Actor | None:
    parts = split_token(token)
    rows = execute(ACTIVE_KEY, [parts[0]]) if parts else []
    if not _admits(rows, parts[1] if parts else token):
        return None
    assert parts is not None
    return _active_actor(execute, parts[0], rows[0])


def active_key_actor(tx: Statements, key_id: str) -> Actor | None:
    """The acting party of the unrevoked, unexpired key `key_id`, None for anything else: a
    web session names its key and is checked against the keys as they are now, with the very
    statements a token is checked with."""
    rows = tx.execute(ACTIVE_KEY, [key_id])
    return _active_actor(tx.execute, key_id, rows[0]) if rows else None


def _active_actor(execute: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]],
                  key_id: str, row: Sequence[Any]) -> Actor | None:
    _, role, subject_id, expires_at, scope_kind, approves = row
    if expires_at is not None and as_moment(expires_at) <= clock.now():
        return None
    scope = WHOLE
    if scope_kind is not None:  # only scoped keys pay for a second statement
        members = frozenset(str(r[0]) for r in execute(SCOPE_OF, [key_id]))
        scope = _scope(scope_kind, members, bool(approves))
    return Actor(Role(role), subject_id, scope)


def _admits(rows: Sequence[tuple[Any, ...]], secret: str) -> bool:
    """Whether a key row was found and the token's secret is the key's; the hashes are compared
    even when no row was found, so a miss costs what a hit does."""
    stored = rows[0][0] if rows else _DUMMY_HASH
    return hmac.compare_digest(stored, hash_secret(secret)) and bool(rows)


def _record(cursor: Statements, key: ApiKey, kind: str, issuer: Issuer, at: datetime) -> None:
    detail = {"role": key.role.value, "subject_id": key.subject_id, "holder": key.holder,
              "expires_at": None if key.expires_at is None else key.expires_at.isoformat(),
              "sites": sorted(key.scope.sites) if key.scope.sites is not None else None,
              "workers": sorted(key.scope.workers) if key.scope.workers is not None else None,
              "approves": key.scope.approves}
    cursor.execute(
        "INSERT INTO key_events (event_id, recorded_at, key_id, kind, actor, by_key_id, detail) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (uuid.uuid4().hex, at, key.key_id, kind, issuer.actor, issuer.key_id,
         json.dumps(detail, ensure_ascii=False, sort_keys=True)))


def _get(cursor: Statements, key_id: str) -> ApiKey:
    rows = cursor.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = %s", (key_id,))
    if not rows:
        raise UnknownReference("key_id", "key_id.exists", f"{key_id} is not a key")
    members = frozenset(str(r[0]) for r in cursor.execute(SCOPE_OF, (key_id,)))
    return _key(rows[0], members)


def _scopes(rows: Iterable[tuple[Any, ...]]) -> defaultdict[str, frozenset[str]]:
    members: defaultdict[str, set[str]] = defaultdict(set)
    for key_id, subject_id in rows:
        members[key_id].add(subject_id)
    return defaultdict(frozenset, {k: frozenset(v) for k, v in members.items()})


def _kind(scope: Scope) -> str | None:
    return "site" if scope.sites is not None else "worker" if scope.workers is not None else None


def _scope(kind: str | None, members: frozenset[str], approves: bool) -> Scope:
    if kind == "site":
        return Scope(sites=members, approves=approves)
    if kind == "worker":
        return Scope(workers=members)
    return WHOLE


def _key(row: tuple[Any, ...], members: frozenset[str]) -> ApiKey:
    (key_id, role, subject_id, created_at, revoked_at, expires_at, issued_by, holder,
     scope_kind, approves) = row
    return ApiKey(key_id, Role(role), subject_id, as_moment(created_at), as_datetime(revoked_at),
                  as_datetime(expires_at), issued_by, holder,
                  _scope(scope_kind, members, bool(approves)))

