from datetime import UTC, datetime, timedelta

import pytest

from ledger.actors import Actor, Role
from ledger.clock import JST
from ledger.domain.taps import Direction, Tap, TapObservation, tap_aggregate_id
from ledger.errors import InvalidValue

MORNING = datetime(2025, 6, 2, 7, 58, tzinfo=JST)
READER = Actor(Role.READER, "GATE-1")


def test_a_taps_aggregate_id_is_derived_from_the_readers_tap_id() -> None:
    first = Tap.observed(
        TapObservation("GATE-1:7", "GATE-1", "in", MORNING, card_id="04A1B2C3"), MORNING, READER
    )
    again = Tap.observed(
        TapObservation("GATE-1:7", "GATE-1", "in", MORNING, card_id="04A1B2C3"),
        MORNING + timedelta(minutes=5),
        READER,
    )
    assert first.id == again.id == tap_aggregate_id("GATE-1:7")


def test_the_ingest_fast_path_builds_the_same_event_as_the_aggregate() -> None:
    observation = TapObservation(
        "GATE-1:8", "GATE-1", "out", MORNING, technician_id="12345678901234"
    )
    via_aggregate = Tap.observed(observation, MORNING, READER).collect_events()[0]
    direct = Tap.recorded_event(observation, MORNING, READER)
    assert type(direct) is type(via_aggregate)
    fields = lambda e: {k: v for k, v in vars(e).items() if k != "timestamp"}  # noqa: E731
    assert fields(direct) == fields(via_aggregate)
    assert direct.mutate(None).technician_id == "12345678901234"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tap_id": "GATE-2:1"}, "tap_id"),  # not this reader's tap
        ({"direction": "sideways"}, "direction"),
        ({"reader_time": datetime(2025, 6, 2, 7, 58)}, "reader_time"),  # naive
        ({"card_id": None}, "card_id"),  # neither card nor technician
        ({"card_id": "zz"}, "card_id"),
    ],
)
def test_a_malformed_tap_is_refused_naming_the_field(change: dict, field: str) -> None:
    values = {
        "tap_id": "GATE-1:1",
        "reader_id": "GATE-1",
        "direction": "in",
        "reader_time": MORNING,
        "card_id": "04A1B2C3",
    } | change
    with pytest.raises(InvalidValue) as refused:
        TapObservation(**values)
    assert refused.value.field == field


def test_directions_are_an_enum() -> None:
    tap = TapObservation("GATE-1:1", "GATE-1", "unknown", MORNING.astimezone(UTC), card_id="ABCD")
    assert tap.direction is Direction.UNKNOWN
