"""The career proof's counting rules and input checks (pure; the signed document end to end is
tests/integration/test_career_proof.py)."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain.settlement.career_proof import (
    CareerProof,
    CareerProofFormatError,
    Certificate,
    Figures,
    bound_by_calendar,
    certified_within_calendar,
    count_days,
)

D1, D2, D3 = date(2025, 6, 16), date(2025, 6, 17), date(2025, 6, 18)


def test_days_count_once_and_foreman_wins_over_team_leader() -> None:
    records = [
        (D1, "鉄筋", "一般"), (D1, "鉄筋", "一般"),  # two sites, one day
        (D2, "鉄筋", "職長"), (D2, "鉄筋", "班長"),  # both on one day: a 職長 day
        (D3, "鉄筋", "班長"), (D3, "電気", "職長"),  # 職長 in another trade does not count here
        (date(2025, 6, 19), None, None),  # no trade: a work day, not the trade's
    ]
    assert count_days(records, ["鉄筋"]) == Figures(
        work_days=4, trade_work_days=3, foreman_days=1, team_leader_days=1, record_count=5)
    assert count_days(records, ["鉄筋", "電気"]).foreman_days == 2


def test_certified_days_are_bounded_by_the_calendar_of_their_periods() -> None:
    one_month = [Certificate(1, "200", date(2021, 4, 1), date(2021, 4, 30), 25, 10, 5),
                 Certificate(2, "300", date(2021, 4, 15), date(2021, 5, 10), 20, 10, 10)]
    # 40 calendar days in the union: 45 certified days become 40, of which 職長 20 and 班長 at
    # most the 20 left (15 certified)
    assert certified_within_calendar(one_month).as_dict() == {
        "work_days": 40, "foreman_days": 20, "team_leader_days": 15}
    assert bound_by_calendar([], 0, 0, 0).as_dict() == {
        "work_days": 0, "foreman_days": 0, "team_leader_days": 0}


@pytest.mark.parametrize("data", [b"not json", b"[]", b'{"format": "other"}',
                                  b'{"format": "ccus-ledger-career-proof/1"}',
                                  b'{"format": "ccus-ledger-career-proof/1", "statement": [],'
                                  b' "signature": "", "event_proofs": [], "heads": [],'
                                  b' "key_statements": []}'])
def test_what_is_not_a_career_proof_is_bad_input(data: bytes) -> None:
    with pytest.raises(CareerProofFormatError):
        CareerProof.from_json(data)
