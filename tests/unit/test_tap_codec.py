"""The compact layout of taps (`ledger.tap_codec`): it holds exactly what the JSON form held, and
its bytes are as documented (stored bytes are never rewritten, so the layout cannot change)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import cbor2
import orjson
import pytest
from eventsourcing.persistence import Mapper
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import clock, tap_codec
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.settlement.proofs import untag
from ledger.domain.taps import Direction, Tap, TapObservation
from ledger.transcoder import OrjsonTranscoder

RECEIVED = datetime(2026, 6, 1, 22, 0, 5, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def ledger() -> Iterator[Ledger]:
    app = Ledger(in_memory=True)
    yield app
    app.close()


def both_forms(ledger: Ledger, observation: TapObservation, received_at: datetime,
               actor: Actor, recorded_at: datetime) -> tuple[Any, Any]:
    """(the stored event as the library's mapper stores it, as the ledger's mapper does)."""
    with clock.clock_at(recorded_at):
        event = Tap.recorded_event(observation, received_at, actor)
    return Mapper.to_stored_event(ledger.mapper, event), ledger.mapper.to_stored_event(event)


def test_a_reader_s_tap_is_stored_in_layout_1_as_documented(ledger: Ledger) -> None:
    tap = TapObservation("S0001-G1:1234567", "S0001-G1", "in",
                         datetime(2026, 6, 2, 7, 0, 2, 5, tzinfo=JST), card_id="04A1B2C3")
    library, ours = both_forms(ledger, tap, RECEIVED, Actor(Role.READER, "S0001-G1"),
                               RECEIVED + timedelta(microseconds=270))
    assert (library.topic, ours.topic) == ("ledger.domain.taps:Tap.Recorded", "t")
    received_wall = (RECEIVED.replace(tzinfo=None) - datetime(1970, 1, 1)) // timedelta(
        microseconds=1)
    assert cbor2.loads(ours.state) == [
        1, received_wall, 270, -3_123_451, 0, 1_234_567, "S0001-G1",
        bytes.fromhex("04A1B2C3"), 0]  # the defaults after item 8 left off
    assert len(ours.state) == 40 and len(library.state) > 480
    assert vars(ledger.mapper.to_domain_event(ours)) == vars(
        ledger.mapper.to_domain_event(library))


def test_an_admin_s_tap_by_technician_on_a_server_clock_off_utc_keeps_every_item(
    ledger: Ledger,
) -> None:
    plus_one = timezone(timedelta(hours=1))
    tap = TapObservation("GATE-1:0000042", "GATE-1", "unknown",
                         datetime(2026, 6, 2, 7, tzinfo=JST), technician_id="01234567890123")
    received = RECEIVED.astimezone(plus_one)
    library, ours = both_forms(ledger, tap, received, Actor(Role.ADMIN, "山田"), received)
    items = cbor2.loads(ours.state)
    assert items[5:] == [42, "GATE-1", None, 2, 1_234_567_890_123, ["admin", "山田"], 3600, 3600]
    decoded = ledger.mapper.to_domain_event(ours)
    assert vars(decoded) == vars(ledger.mapper.to_domain_event(library))
    assert decoded.technician_id == "01234567890123"  # type: ignore[attr-defined]
    assert decoded.tap_id == "GATE-1:42"  # type: ignore[attr-defined]


offsets = st.integers(-14 * 3600, 14 * 3600).map(lambda s: timezone(timedelta(seconds=s)))
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                       timezones=offsets)
readers = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,20}", fullmatch=True)


@st.composite
def taps(draw: st.DrawFn) -> tuple[TapObservation, datetime, Actor, datetime]:
    reader = draw(readers)
    card = draw(st.none() | st.from_regex(r"[0-9A-F]{4,20}", fullmatch=True))
    technician = draw(st.from_regex(r"[0-9]{14}", fullmatch=True) if card is None
                      else st.none() | st.from_regex(r"[0-9]{14}", fullmatch=True))
    observation = TapObservation(
        f"{reader}:{draw(st.integers(0, 10**19 - 1))}", reader,
        draw(st.sampled_from(list(Direction))), draw(moments), card_id=card,
        technician_id=technician)
    role = draw(st.sampled_from([Role.READER, Role.ADMIN, Role.SYSTEM]))
    actor = Actor(role, draw(st.sampled_from([reader, "ops", "山田 花子"])))
    received = draw(moments)
    recorded = received + timedelta(microseconds=draw(st.integers(0, 10**8)))
    return observation, received, actor, recorded


@settings(max_examples=150, deadline=None)
@given(taps())
def test_every_tap_reads_back_as_its_json_form_reads(
    ledger: Ledger, tap: tuple[TapObservation, datetime, Actor, datetime]
) -> None:
    observation, received, actor, recorded = tap
    try:
        library, ours = both_forms(ledger, observation, received, actor, recorded)
    except OverflowError:  # the recorded moment past year 9999: no event to store
        return
    assert ours.topic == tap_codec.TOPIC and len(ours.state) < len(library.state) / 4
    from_json = vars(ledger.mapper.to_domain_event(library))
    from_layout = vars(ledger.mapper.to_domain_event(ours))
    assert from_layout == from_json
    assert {k: (type(v), getattr(v, "utcoffset", None) and v.utcoffset())
            for k, v in from_layout.items()} == {
        k: (type(v), getattr(v, "utcoffset", None) and v.utcoffset())
        for k, v in from_json.items()}
    assert tap_codec.content(ours.state) == untag(orjson.loads(library.state))


def test_an_offset_with_a_fraction_of_a_second_is_stored_as_json(ledger: Ledger) -> None:
    odd = timezone(timedelta(hours=9, microseconds=1))
    tap = TapObservation("GATE-1:1", "GATE-1", "in", datetime(2026, 6, 2, 7, tzinfo=odd),
                         card_id="04A1B2C3")
    library, ours = both_forms(ledger, tap, RECEIVED, Actor(Role.READER, "GATE-1"), RECEIVED)
    assert ours == library  # as the library's mapper stores it
    assert vars(ledger.mapper.to_domain_event(ours))["reader_time"].utcoffset() == (
        timedelta(hours=9, microseconds=1))


def test_the_transcoder_tells_the_forms_apart_by_their_first_byte(ledger: Ledger) -> None:
    state = {"timestamp": RECEIVED, "originator_topic": tap_codec.TAP_TOPIC,
             "tap_id": "GATE-1:7", "reader_id": "GATE-1", "card_id": "ABC", "technician_id": None,
             "direction": Direction.OUT, "reader_time": RECEIVED, "received_at": RECEIVED,
             "actor": Actor(Role.SYSTEM, "jobs")}
    compact = tap_codec.encode(state)
    assert compact is not None and tap_codec.is_compact(compact)
    transcoder = ledger.mapper.transcoder
    assert isinstance(transcoder, OrjsonTranscoder)
    as_json = transcoder.encode(state)
    assert not tap_codec.is_compact(as_json)
    assert transcoder.decode(compact) == transcoder.decode(as_json) == state


@pytest.mark.parametrize("items, wrong", [
    ([2, 0, 0, 0, 0, 1, "R", None, 0], "layout 1"),
    ([1, 0, 0, 0, 0, 1, "R", None, 7], "bad item"),
    ([1, 0, 0, 0, 0, 1, 5, None, 0], "bad item"),
    ([1, 0, 0, 0, 0, 1, "R", None, 0, None, ["nobody", "x"]], "bad item"),
    ([1, 0, 0, 0, "9h", 1, "R", None, 0], "bad item"),
])
def test_a_malformed_layout_is_refused_naming_it(items: list[Any], wrong: str) -> None:
    with pytest.raises(ValueError, match=wrong):
        tap_codec.decode(cbor2.dumps(items))
