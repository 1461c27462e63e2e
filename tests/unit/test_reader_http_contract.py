"""The HTTP transport's side of the /v1/taps contract: request body and response parsing."""

from datetime import UTC, datetime, timedelta

import pytest

from ledger.clock import JST
from ledger.domain.taps import Direction
from readers.http_transport import HttpTransport, parse_ack
from readers.spool import SpooledTap
from readers.transport import TransportUnavailable, tap_payload


def test_a_tap_is_sent_exactly_as_the_contract_spells_it() -> None:
    tap = SpooledTap(42, "R1:42", "R1", "04A1B2C3", None, Direction.IN,
                     datetime(2025, 6, 1, 7, 58, tzinfo=JST))
    assert tap_payload(tap) == {
        "tap_id": "R1:42", "reader_id": "R1", "card_id": "04A1B2C3", "technician_id": None,
        "direction": "in", "reader_time": "2025-06-01T07:58:00+09:00",
    }


def test_the_contracts_response_is_parsed() -> None:
    ack = parse_ack(b'{"results": [{"tap_id": "R1:42", "status": "flagged", '
                    b'"flags": ["unknown_card"], "reason": null, "position": 123}, '
                    b'{"tap_id": "R1:43", "status": "rejected", "flags": [], '
                    b'"reason": "card_id: bad", "position": null}], "position": 123, '
                    b'"server_time": "2025-06-01T07:58:01.123+00:00"}')
    assert [(r.tap_id, r.status, r.flags, r.position) for r in ack.results] == [
        ("R1:42", "flagged", ("unknown_card",), 123), ("R1:43", "rejected", (), None)]
    assert ack.results[0].delivered and ack.results[1].rejected
    assert ack.results[1].reason == "card_id: bad" and ack.position == 123
    assert ack.server_time == datetime(2025, 6, 1, 7, 58, 1, 123000, tzinfo=UTC)
    assert ack.server_time - datetime(2025, 6, 1, 16, 58, tzinfo=JST) == timedelta(seconds=1.123)


@pytest.mark.parametrize("body", [
    b"<html>502 Bad Gateway</html>", b'{"results": "nope"}', b'{"taps": []}',
    b'{"results": [{"status": "accepted"}]}',
    b'{"results": [], "server_time": "2025-06-01T07:58:01"}',  # no time zone
])
def test_a_response_outside_the_contract_means_the_batchs_fate_is_unknown(body: bytes) -> None:
    with pytest.raises(TransportUnavailable, match="malformed response"):
        parse_ack(body, "http://ledger/v1/taps")


def test_bad_transport_settings_are_named() -> None:
    with pytest.raises(ValueError, match="must start with http"):
        HttpTransport("ledger.example:8000", "t")
    with pytest.raises(ValueError, match="token"):
        HttpTransport("http://ledger.example", "")
    assert HttpTransport("http://ledger.example/", "t").url == "http://ledger.example/v1/taps"
