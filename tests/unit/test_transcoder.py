from datetime import date, datetime
from decimal import Decimal
from uuid import uuid4

from ledger.actors import Actor, Role
from ledger.application import ENUMS
from ledger.clock import JST
from ledger.domain.base import Position
from ledger.domain.taps import Direction
from ledger.transcoder import ledger_transcoder


def test_every_registered_type_comes_back_as_itself() -> None:
    transcoder = ledger_transcoder(ENUMS)
    state = {
        "reader_time": datetime(2025, 6, 2, 7, 58, 1, 123456, tzinfo=JST),
        "work_date": date(2025, 6, 2),
        "request_id": uuid4(),
        "points_yen": Decimal("320"),
        "direction": Direction.IN,
        "position": Position.FOREMAN,
        "actor": Actor(Role.PRIME_CONTRACTOR, "100"),
        "changes": {"position": Position.TEAM_LEADER, "entry_at": None, "trade": "鉄筋"},
        "list": [date(2025, 1, 1), "x", 3],
    }
    decoded = transcoder.decode(transcoder.encode(state))
    assert decoded == state
    assert {k: type(v) for k, v in decoded.items()} == {k: type(v) for k, v in state.items()}


def test_japanese_text_is_stored_as_utf8_not_escaped() -> None:
    encoded = ledger_transcoder(ENUMS).encode({"trade": "鉄筋"})
    assert "鉄筋".encode() in encoded
