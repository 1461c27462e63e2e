"""The web app's sessions: a browser signs in with an API key and is given a random session
secret in an HttpOnly cookie. Only the secret's SHA-256 is stored (`web_sessions`), with the key
it acts as, a form token against cross-site requests (CSRF) and an expiry. Every request resolves
the session against the keys as they are now (`active_key_actor`, the statements a bearer token
is checked with), so revoking or expiring the key ends its sessions at once; signing out ends
the session server-side, whatever copy of the cookie remains."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger import clock
from ledger.actors import Actor
from ledger.settings import Settings
from ledger.storage.keys import ApiKey, active_key_actor
from ledger.storage.sql import Database, Statements, as_moment

SESSION_LIFETIME = timedelta(hours=8)  # a working day at the site office
# A session that ended or expired is kept this long (who was signed in, as what key, until when),
# then swept by the next sign-in: the table holds about a day of sign-ins, never years of them.
SESSION_KEPT_AFTER_END = timedelta(days=1)


@dataclass(frozen=True)
class WebSession:
    key_id: str
    actor: Actor
    csrf_token: str
    expires_at: datetime

    def csrf_matches(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent, self.csrf_token)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _sweep(tx: Statements, now: datetime) -> None:
    """Remove the sessions that ended or expired more than SESSION_KEPT_AFTER_END ago."""
    cutoff = now - SESSION_KEPT_AFTER_END
    tx.execute("DELETE FROM web_sessions WHERE expires_at < %s OR ended_at < %s",
               (cutoff, cutoff))


class WebSessions:
    """The `web_sessions` table on the ledger's database."""

    def __init__(self, settings: Settings) -> None:
        self._database = Database(settings, max_connections=4)

    def close(self) -> None:
        self._database.close()

    def start(self, key: ApiKey) -> tuple[str, WebSession]:
        """A new session for `key` (already authenticated): its secret, for the cookie, and the
        session. It ends after SESSION_LIFETIME, or when the key does, whichever is first."""
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = clock.now()
        expires_at = now + SESSION_LIFETIME
        if key.expires_at is not None:
            expires_at = min(expires_at, key.expires_at)
        with self._database.transaction() as tx:
            _sweep(tx, now)
            tx.execute("INSERT INTO web_sessions (session_hash, key_id, csrf_token, created_at, "
                       "expires_at) VALUES (%s, %s, %s, %s, %s)",
                       (_hash(secret), key.key_id, csrf, now, expires_at))
        return secret, WebSession(key.key_id, key.actor, csrf, expires_at)

    def resolve(self, secret: str | None) -> WebSession | None:
        """The live session of a cookie's secret: not ended, not expired, its key active."""
        if not secret:
            return None
        with self._database.transaction() as tx:
            rows = tx.execute("SELECT key_id, csrf_token, expires_at FROM web_sessions "
                              "WHERE session_hash = %s AND ended_at IS NULL", [_hash(secret)])
            if not rows or as_moment(rows[0][2]) <= clock.now():
                return None
            key_id, csrf, expires_at = str(rows[0][0]), str(rows[0][1]), as_moment(rows[0][2])
            actor = active_key_actor(tx, key_id)
        return None if actor is None else WebSession(key_id, actor, csrf, expires_at)

    def end(self, secret: str | None) -> None:
        if secret:
            with self._database.transaction() as tx:
                tx.execute("UPDATE web_sessions SET ended_at = %s WHERE session_hash = %s "
                           "AND ended_at IS NULL", (clock.now(), _hash(secret)))
