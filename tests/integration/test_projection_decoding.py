"""The projection reads taps without the library's event objects: the state it decodes must be
the one the library's mapper gives, plain or encrypted; an unexpected shape must still decode."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.taps import TapObservation
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from projections import decoding
from tests.integration.world import ADMIN, register_world


def test_a_tap_decodes_as_the_library_decodes_it(
    database_url: str, cipher_key: str | None, now: Any
) -> None:
    settings = Settings(database_url=database_url, cipher_key=cipher_key)
    migrate(settings)
    ledger = Ledger(settings)
    try:
        register_world(ledger)
        at = datetime(2025, 6, 2, 8, tzinfo=JST)
        ledger.record_taps([TapObservation("GATE-1:1", "GATE-1", "in", at, card_id="04A1B2C3")],
                           ADMIN)
        notification = ledger.recorder.select_notifications(
            start=ledger.log_position(), limit=1)[0]
        [logged] = decoding.decode(ledger.mapper, [notification])
        library = vars(ledger.mapper.to_domain_event(notification))
        assert logged.name == "Tap.Recorded"
        assert logged.event_class is type(ledger.mapper.to_domain_event(notification))
        assert logged.state == library
        assert {k: type(v) for k, v in logged.state.items()} == {
            k: type(v) for k, v in library.items()}
    finally:
        ledger.close()


def test_a_tap_of_another_shape_goes_through_the_general_walk(ledger: Ledger) -> None:
    stored = {"timestamp": {"_type_": "datetime_iso", "_data_": "2025-06-02T08:00:00+09:00"},
              "tap_id": "GATE-1:1", "reader_time": "not tagged"}
    state = decoding._tap_state(ledger.mapper, orjson.dumps(stored))
    assert state == {"timestamp": datetime(2025, 6, 2, 8, tzinfo=JST), "tap_id": "GATE-1:1",
                     "reader_time": "not tagged"}


def test_the_log_read_after_a_position_is_the_librarys(ledger: Ledger, now: Any) -> None:
    register_world(ledger)
    library_select = type(ledger.recorder).__mro__[1].select_notifications  # the library's own
    ours = ledger.recorder.select_notifications(start=2, limit=5, inclusive_of_start=False)
    theirs = library_select(ledger.recorder, start=2, limit=5, inclusive_of_start=False)
    assert [n.id for n in ours] == [3, 4, 5, 6, 7]
    assert ours == theirs
