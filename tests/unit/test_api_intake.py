"""Tap intake without storage: each tap parsed on its own, results aligned with what was sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from api.intake import Rejected, parse_tap, tap_results
from api.schemas.taps import TapBatchCreate
from ledger.application import TapReceipt
from ledger.clock import JST
from ledger.domain.taps import Direction, TapObservation

GOOD = {"tap_id": "GATE-1:1", "reader_id": "GATE-1", "card_id": "04A1B2C3",
        "direction": "in", "reader_time": "2025-06-20T07:58:00+09:00"}


def parsed(raw: Any) -> TapObservation | Rejected:
    return parse_tap(TapBatchCreate.model_validate({"taps": [raw]}).taps[0])


def test_a_good_tap_becomes_an_observation() -> None:
    observation = parsed(GOOD)
    assert isinstance(observation, TapObservation)
    assert observation.direction is Direction.IN
    assert observation.reader_time == datetime(2025, 6, 20, 7, 58, tzinfo=JST)


@pytest.mark.parametrize(("raw", "expected"), [
    ([1, 2], Rejected(None, "tap: is not a JSON object")),
    (None, Rejected(None, "tap: is not a JSON object")),
    (GOOD | {"tap_id": 5}, Rejected(None, "tap_id: 5 is not a tap ID '<reader_id>:<sequence "
                                          "number>'")),
    (GOOD | {"reader_id": {"a": 1}}, Rejected("GATE-1:1", "reader_id: {'a': 1} is not a reader "
                                                          "ID (1-64 letters, digits, '-' or '_')")),
    (GOOD | {"direction": ["in"]}, Rejected("GATE-1:1", "direction: ['in'] is not in, out or "
                                                        "unknown")),
    (GOOD | {"reader_time": 1750373880}, Rejected("GATE-1:1", "reader_time: 1750373880 is not a "
                                                              "date-time")),
    ({"tap_id": "GATE-1:1"}, Rejected("GATE-1:1", "reader_id: is missing")),
])
def test_a_malformed_tap_is_rejected_with_the_field(raw: Any, expected: Rejected) -> None:
    assert parsed(raw) == expected


def test_the_batch_schema_keeps_every_tap_as_it_was_sent() -> None:
    sent = [GOOD, 3, "x", None, {"extra": 1}, [GOOD]]
    assert TapBatchCreate.model_validate({"taps": sent}).taps == sent


def test_results_follow_the_order_sent() -> None:
    first, bad, second = parsed(GOOD), parsed(7), parsed(GOOD | {"tap_id": "GATE-1:2"})
    receipts = [TapReceipt("GATE-1:1", "accepted", 41), TapReceipt("GATE-1:2", "duplicate", None)]
    results = tap_results([first, bad, second], receipts, {"GATE-1:1": ["card.revoked"]})
    assert [(r.tap_id, r.status, r.flags, r.position) for r in results] == [
        ("GATE-1:1", "flagged", ["card.revoked"], 41),
        (None, "rejected", [], None),
        ("GATE-1:2", "duplicate", [], None),
    ]


def test_a_duplicate_is_not_flagged_again() -> None:
    receipts = [TapReceipt("GATE-1:1", "duplicate", None)]
    results = tap_results([parsed(GOOD)], receipts, {"GATE-1:1": ["card.unknown"]})
    assert (results[0].status, results[0].flags) == ("duplicate", [])
