"""APDU profiles against a scripted card: the right commands, the right ID, or ReadFailed."""

import pytest

from readers.apdu import CardRemoved, Iso7816Profile, ReadFailed, UidProfile, exchange, parse_hex
from tests.readers_support.fakes import FakeCard, ok

GET_UID = "FFCA000000"
AID = bytes.fromhex("F0434355530001")  # a proprietary AID (F0 …) for the test card
SELECT_AID = "00A4040007F0434355530001"
SELECT_EF = "00A4000C020101"
READ_14 = "00B000000E"
TECHNICIAN = "12345678901234"


def iso(**overrides: object) -> Iso7816Profile:
    return Iso7816Profile(**{"aid": AID, "file_id": bytes.fromhex("0101"), **overrides})  # type: ignore[arg-type]


def test_uid_profile_reads_the_uid_as_upper_case_hex_card_id() -> None:
    card = FakeCard({GET_UID: ok(bytes.fromhex("04a1b2c3d4e5f6"))})
    assert UidProfile().read(card).card_id == "04A1B2C3D4E5F6"
    assert card.sent == [GET_UID]


@pytest.mark.parametrize("uid", [b"", b"\x04", bytes(33)])
def test_a_uid_of_impossible_length_is_a_failed_read(uid: bytes) -> None:
    with pytest.raises(ReadFailed, match="not a card UID"):
        UidProfile().read(FakeCard({GET_UID: ok(uid)}))


def test_a_reader_without_get_data_fails_with_the_status_word_and_its_meaning() -> None:
    with pytest.raises(ReadFailed, match=r"GET DATA \(UID\): card answered 6A 81 \(function not"):
        UidProfile().read(FakeCard({GET_UID: ([], 0x6A, 0x81)}))


def test_wrong_le_6cxx_is_resent_with_the_length_the_card_asked_for() -> None:
    card = FakeCard({GET_UID: ([], 0x6C, 0x04), "FFCA000004": ok(bytes.fromhex("0A0B0C0D"))})
    assert UidProfile().read(card).card_id == "0A0B0C0D"
    assert card.sent == [GET_UID, "FFCA000004"]


def test_61xx_more_data_is_fetched_with_get_response() -> None:
    card = FakeCard({READ_14: (list(b"1234567"), 0x61, 0x07), "00C0000007": ok(b"8901234")})
    assert exchange(card, bytes.fromhex(READ_14), "READ BINARY") == TECHNICIAN.encode()


def test_a_card_that_never_stops_asking_for_get_response_fails() -> None:
    card = FakeCard({GET_UID: ([], 0x61, 0x01), "FFC0000001": ([1], 0x61, 0x01)})
    with pytest.raises(ReadFailed, match="keeps asking"):
        exchange(card, bytes.fromhex(GET_UID), "GET DATA")


def test_garbage_from_the_reader_is_a_failed_read_not_a_crash() -> None:
    card = FakeCard({GET_UID: ([300, -1], 0x90, 0x00)})
    with pytest.raises(ReadFailed, match="garbage"):
        UidProfile().read(card)


def test_iso_profile_selects_the_application_and_file_then_reads_the_technician_id() -> None:
    card = FakeCard({SELECT_AID: ok(b""), SELECT_EF: ok(b""), READ_14: ok(TECHNICIAN.encode())})
    identity = iso().read(card)
    assert identity.technician_id == TECHNICIAN and identity.card_id is None
    assert card.sent == [SELECT_AID, SELECT_EF, READ_14]


def test_iso_profile_reads_packed_bcd_at_an_offset() -> None:
    card = FakeCard({SELECT_EF: ok(b""), "00B0001007": ok(bytes.fromhex(TECHNICIAN))})
    profile = Iso7816Profile(file_id=bytes.fromhex("0101"), offset=16, length=7, encoding="bcd")
    assert profile.read(card).technician_id == TECHNICIAN


def test_iso_profile_strips_padding_after_the_digits() -> None:
    card = FakeCard({SELECT_AID: ok(b""), "00B0000010": ok(TECHNICIAN.encode() + b"  ")})
    assert iso(file_id=None, length=16).read(card).technician_id == TECHNICIAN


@pytest.mark.parametrize(
    ("data", "encoding"),
    [(b"12345678ABCDEF", "ascii"), (b"1234567890123\x00", "ascii"), (b"\xff" * 14, "ascii"),
     (bytes.fromhex("1234567890123A"), "bcd"), (bytes.fromhex("1234F678901234"), "bcd")],
)
def test_data_that_is_not_a_14_digit_id_is_a_failed_read(data: bytes, encoding: str) -> None:
    length = len(data)
    card = FakeCard({SELECT_AID: ok(b""), SELECT_EF: ok(b""),
                     f"00B00000{length:02X}": ok(data)})
    with pytest.raises(ReadFailed, match="not a 14-digit technician ID"):
        iso(length=length, encoding=encoding).read(card)


def test_a_short_read_is_a_failed_read() -> None:
    card = FakeCard({SELECT_AID: ok(b""), SELECT_EF: ok(b""), READ_14: ok(b"1234567")})
    with pytest.raises(ReadFailed, match="got 7 bytes, expected 14"):
        iso().read(card)


def test_an_application_missing_from_the_card_fails_at_select() -> None:
    card = FakeCard({SELECT_AID: ([], 0x6A, 0x82)})
    with pytest.raises(ReadFailed, match=r"SELECT \(AID\): card answered 6A 82 \(file or app"):
        iso().read(card)
    assert card.sent == [SELECT_AID]  # nothing read after a failed select


def test_a_card_removed_mid_read_is_a_failed_read() -> None:
    card = FakeCard({SELECT_AID: ok(b""), SELECT_EF: ok(b""), READ_14: CardRemoved("gone")})
    with pytest.raises(CardRemoved):
        iso().read(card)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"aid": None, "file_id": None}, "give an AID"), ({"aid": b"\x01\x02"}, "not 5-16 bytes"),
     ({"file_id": b"\x01"}, "file ID 01 is not 2 bytes"), ({"offset": -1}, "offset -1"),
     ({"length": 13}, "cannot hold 14 digits"), ({"encoding": "ebcdic"}, "not ascii or bcd")],
)
def test_a_profile_with_bad_settings_names_the_setting(overrides: dict[str, object],
                                                       message: str) -> None:
    with pytest.raises(ValueError, match=message):
        iso(**overrides)


def test_parse_hex_accepts_spaces_and_colons_and_names_bad_input() -> None:
    assert parse_hex("A0 00:00 03", "--aid") == bytes.fromhex("A0000003")
    with pytest.raises(ValueError, match="--aid: 'A0G1' is not hexadecimal"):
        parse_hex("A0G1", "--aid")
