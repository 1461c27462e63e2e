"""Tap intake without storage: each tap parsed on its own, results aligned with what was sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import pytest

from api.intake import Rejected, parse_tap, tap_results
from api.schemas.taps import TapBatchCreate, TapResult
from ledger.application import Ledger, TapReceipt
from ledger.clock import JST
from ledger.domain.taps import Direction, TapObservation
from projections.store import Tx
from projections.tap_answers import answer_taps

GOOD = {"tap_id": "GATE-1:1", "reader_id": "GATE-1", "card_id": "04A1B2C3",
        "direction": "in", "reader_time": "2025-06-20T07:58:00+09:00"}

RECEIVED = datetime(2025, 6, 20, 7, 59, tzinfo=JST)  # a minute after GOOD's reader time


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


class Registries(Tx):
    """A SQLite-dialect Tx answering the registry lookups from fixed rows, the read models at
    position 100: the reader GATE-1 registered at 1, card 04A1B2C3 issued at 2, revoked at 5."""

    def __init__(self) -> None:
        super().__init__(None, "", sqlite=True)

    def execute(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        if "projection_positions" in sql:
            return [(100,)]
        if "reader_registry" in sql:
            return [("GATE-1", "10000000000001", 1, None)]
        if "card_registry" in sql:
            return [("04A1B2C3", "12345678901234", 2, 5)]
        if "site_entry_rules" in sql:
            return []  # the site asks for no entry checks
        raise AssertionError(sql)


def answered(parsed_taps: list[TapObservation | Rejected],
             receipts: list[TapReceipt]) -> list[TapResult]:
    # the read models are past every position here: the ledger's log is not asked
    return tap_results(answer_taps(Registries(), cast(Ledger, None), parsed_taps, receipts))


def test_results_follow_the_order_sent() -> None:
    first, bad, second = parsed(GOOD), parsed(7), parsed(GOOD | {"tap_id": "GATE-1:2"})
    receipts = [TapReceipt("GATE-1:1", "accepted", 41, RECEIVED),
                TapReceipt("GATE-1:2", "duplicate", None)]
    results = answered([first, bad, second], receipts)
    assert [(r.tap_id, r.status, r.flags, r.position) for r in results] == [
        ("GATE-1:1", "flagged", ["revoked_card"], 41),
        (None, "rejected", [], None),
        ("GATE-1:2", "duplicate", [], None),
    ]


def test_a_duplicate_is_not_flagged_again() -> None:
    results = answered([parsed(GOOD)], [TapReceipt("GATE-1:1", "duplicate", None)])
    assert (results[0].status, results[0].flags) == ("duplicate", [])


def test_a_conflict_is_answered_with_both_hashes_and_its_flags() -> None:
    receipt = TapReceipt("GATE-1:1", "conflict", 41, RECEIVED, "b" * 64, "a" * 64)
    [result] = answered([parsed(GOOD)], [receipt])
    assert (result.status, result.flags, result.content_hash, result.stored_content_hash) == (
        "conflict", ["revoked_card", "conflict"], "b" * 64, "a" * 64)


def test_a_padded_sequence_is_answered_in_its_canonical_form() -> None:
    observation = parsed(GOOD | {"tap_id": "GATE-1:0000007"})
    assert isinstance(observation, TapObservation) and observation.tap_id == "GATE-1:7"
