"""The web app's sessions table keeps about a day of sign-ins: a sign-in sweeps the sessions that
ended or expired more than a day before, and only those."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from api.web.sessions import SESSION_KEPT_AFTER_END, SESSION_LIFETIME, WebSessions
from ledger import clock
from ledger.actors import Role
from ledger.settings import Settings
from ledger.storage.keys import KeyStore
from ledger.storage.sql import Database


@pytest.fixture
def sessions(settings: Settings) -> Iterator[WebSessions]:
    store = WebSessions(settings)
    yield store
    store.close()


def stored_sessions(settings: Settings) -> int:
    database = Database(settings, max_connections=1)
    try:
        return int(database.execute("SELECT count(*) FROM web_sessions")[0][0])
    finally:
        database.close()


def test_a_sign_in_sweeps_sessions_ended_or_expired_over_a_day_ago(
        settings: Settings, sessions: WebSessions, now: clock.FixedClock) -> None:
    keys = KeyStore(settings)
    try:
        key = keys.create(Role.AUDITOR, "audit-office").key
    finally:
        keys.close()
    signed_out, _ = sessions.start(key)
    sessions.end(signed_out)
    left_to_expire, _ = sessions.start(key)  # expires SESSION_LIFETIME after now
    now.advance(SESSION_KEPT_AFTER_END)
    still_open, _ = sessions.start(key)  # the sign-out was exactly a day ago: kept
    assert stored_sessions(settings) == 3

    now.advance(timedelta(hours=1))
    sessions.start(key)  # the sign-out is over a day old now; the expiry is not

    assert stored_sessions(settings) == 3
    assert sessions.resolve(signed_out) is None
    assert sessions.resolve(left_to_expire) is None  # expired, kept a while, never live again

    now.advance(SESSION_LIFETIME)
    newest, _ = sessions.start(key)

    assert stored_sessions(settings) == 3  # the expired one went a day after its expiry
    assert sessions.resolve(still_open) is None
    assert sessions.resolve(newest) is not None
