"""The ingest path stores taps without the library's event objects: what it stores must be what
the library's mapper stores for the same event, plain or encrypted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import Tap, TapObservation
from ledger.settings import Settings
from ledger.storage.tap_events import RecordedTaps

RECEIVED = datetime(2025, 6, 20, 1, 2, 3, 456789, tzinfo=UTC)
OBSERVATIONS = [
    TapObservation("GATE-1:1", "GATE-1", "in", datetime(2025, 6, 20, 8, tzinfo=JST),
                   card_id="04A1B2C3"),
    TapObservation("GATE-1:2", "GATE-1", "out", datetime(2025, 6, 20, 17, 30, 5, 12, tzinfo=JST),
                   technician_id="12345678901234"),
    TapObservation("G_2-x:1234567890123456789", "G_2-x", "unknown",
                   datetime(2025, 6, 19, 23, 59, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
                   card_id="ABCDEF0123456789", technician_id="98765432109876"),
]
ACTORS = [Actor(Role.READER, "GATE-1"), Actor(Role.ADMIN, "山田 花子")]


@pytest.fixture
def ledger(sqlite_url: str, cipher_key: str | None) -> Iterator[Ledger]:
    app = Ledger(Settings(database_url=sqlite_url, cipher_key=cipher_key))
    yield app
    app.close()


@pytest.mark.parametrize("observation", OBSERVATIONS, ids=lambda o: o.tap_id)
@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: a.role.value)
def test_a_tap_is_stored_as_the_librarys_mapper_stores_it(
    ledger: Ledger, observation: TapObservation, actor: Actor, now: Any
) -> None:
    ours = RecordedTaps(ledger.mapper, RECEIVED, actor).stored_event(observation)
    theirs = ledger.mapper.to_stored_event(Tap.recorded_event(observation, RECEIVED, actor))
    assert (ours.originator_id, ours.originator_version, ours.topic) == (
        theirs.originator_id, theirs.originator_version, theirs.topic)
    cipher = ledger.mapper.cipher
    if cipher is None:
        assert ours.state == theirs.state
    else:  # encrypted with a fresh nonce each time: equal once decrypted
        assert ours.state != theirs.state
        assert cipher.decrypt(ours.state) == cipher.decrypt(theirs.state)
    assert vars(ledger.mapper.to_domain_event(ours)) == vars(ledger.mapper.to_domain_event(theirs))


def test_each_tap_of_a_batch_has_its_own_timestamp(ledger: Ledger, now: Any) -> None:
    """As each event the library makes does: the clock is read once per tap."""
    recorded = RecordedTaps(ledger.mapper, RECEIVED, ACTORS[0])
    first = recorded.stored_event(OBSERVATIONS[0])
    now.advance(timedelta(microseconds=1))
    second = recorded.stored_event(OBSERVATIONS[1])
    stamps = [ledger.mapper.to_domain_event(e).timestamp for e in (first, second)]
    assert stamps[1] - stamps[0] == timedelta(microseconds=1)
