"""APDU profiles: how the reader gets an identifier out of a card (ISO/IEC 7816-4, PC/SC part 3).

A profile either returns a valid :class:`CardIdentity` or raises :class:`ReadFailed`. A wrong
status word, a card pulled away mid-read or bytes that are not an ID must never become a tap with
a wrong ID: the worker is told to present the card again instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from ledger.errors import LedgerError
from readers.identity import CardIdentity

GET_UID = bytes.fromhex("FFCA000000")  # PC/SC part 3 GET DATA: the contactless card's UID
MAX_GET_RESPONSE = 16  # a 14-digit ID never needs more; a card asking for more is broken

STATUS_MEANINGS = {
    0x6281: "part of the data may be corrupted",
    0x6282: "end of file reached before the expected length",
    0x6700: "wrong length",
    0x6881: "logical channel not supported",
    0x6982: "security status not satisfied",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A86: "incorrect parameters P1-P2",
    0x6B00: "wrong parameters (offset outside the EF)",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}


class ReadFailed(Exception):
    """The card could not be read; the worker should present it again."""


class CardRemoved(ReadFailed):
    """The card left the reader (or the reader failed) in the middle of a read."""


class CardConnection(Protocol):
    """The part of a pyscard ``CardConnection`` a profile uses."""

    def transmit(self, command: list[int]) -> tuple[list[int], int, int]: ...


class ApduProfile(Protocol):
    @property
    def name(self) -> str: ...

    def read(self, connection: CardConnection) -> CardIdentity: ...


def describe_status(sw1: int, sw2: int) -> str:
    meaning = STATUS_MEANINGS.get(sw1 << 8 | sw2, "error")
    return f"{sw1:02X} {sw2:02X} ({meaning})"


def _transmit(connection: CardConnection, command: bytes, step: str) -> tuple[bytes, int, int]:
    data, sw1, sw2 = connection.transmit(list(command))
    try:
        return bytes(data), int(sw1), int(sw2)
    except (TypeError, ValueError):
        raise ReadFailed(
            f"{step}: the reader returned garbage ({data!r}, {sw1!r}, {sw2!r})"
        ) from None


def exchange(connection: CardConnection, command: bytes, step: str) -> bytes:
    """Send one command APDU and return its data on 90 00; anything else raises ReadFailed.

    T=0 cards answer 6C xx ("wrong Le, use xx") and 61 xx ("xx more bytes: GET RESPONSE"); both
    are followed here so a profile sees one answer per command.
    """
    data, sw1, sw2 = _transmit(connection, command, step)
    if sw1 == 0x6C and len(command) == 5:  # a header plus Le only: resend with the right Le
        data, sw1, sw2 = _transmit(connection, command[:-1] + bytes([sw2]), step)
    for _ in range(MAX_GET_RESPONSE):
        if sw1 != 0x61:
            break
        more, sw1, sw2 = _transmit(connection, bytes([command[0], 0xC0, 0, 0, sw2]), step)
        data += more
    else:
        raise ReadFailed(f"{step}: the card keeps asking for GET RESPONSE")
    if (sw1, sw2) != (0x90, 0x00):
        raise ReadFailed(f"{step}: card answered {describe_status(sw1, sw2)}")
    return data


@dataclass(frozen=True)
class UidProfile:
    """Profile (a): the card's UID via PC/SC GET DATA, sent as the card ID."""

    name: ClassVar[str] = "uid"

    def read(self, connection: CardConnection) -> CardIdentity:
        uid = exchange(connection, GET_UID, "GET DATA (UID)")
        if not 2 <= len(uid) <= 32:
            raise ReadFailed(f"GET DATA (UID): {len(uid)} bytes is not a card UID (2-32 bytes)")
        return CardIdentity(card_id=uid.hex().upper())


Encoding = Literal["ascii", "bcd"]


@dataclass(frozen=True)
class Iso7816Profile:
    """Profile (b): SELECT the application (AID) and/or the file (file ID), then READ BINARY
    ``length`` bytes at ``offset`` holding the 14-digit 技能者ID as ASCII digits or packed BCD."""

    aid: bytes | None = None
    file_id: bytes | None = None
    offset: int = 0
    length: int = 14
    encoding: Encoding = "ascii"
    name: ClassVar[str] = "iso7816"

    def __post_init__(self) -> None:
        if self.aid is None and self.file_id is None:
            raise ValueError("iso7816 profile: give an AID (--aid) or a file ID (--file-id)")
        if self.aid is not None and not 5 <= len(self.aid) <= 16:
            raise ValueError(f"iso7816 profile: AID {self.aid.hex().upper()} is not 5-16 bytes")
        if self.file_id is not None and len(self.file_id) != 2:
            raise ValueError(
                f"iso7816 profile: file ID {self.file_id.hex().upper()} is not 2 bytes"
            )
        if not 0 <= self.offset <= 0x7FFF:
            raise ValueError(f"iso7816 profile: offset {self.offset} is not 0-32767")
        if self.encoding not in ("ascii", "bcd"):
            raise ValueError(f"iso7816 profile: encoding {self.encoding!r} is not ascii or bcd")
        if not (7 if self.encoding == "bcd" else 14) <= self.length <= 255:
            raise ValueError(f"iso7816 profile: length {self.length} cannot hold 14 digits "
                             f"in {self.encoding} (at most 255)")

    def read(self, connection: CardConnection) -> CardIdentity:
        if self.aid is not None:
            select_aid = bytes([0x00, 0xA4, 0x04, 0x00, len(self.aid)]) + self.aid
            exchange(connection, select_aid, "SELECT (AID)")
        if self.file_id is not None:
            exchange(connection, bytes([0x00, 0xA4, 0x00, 0x0C, 2]) + self.file_id, "SELECT (file)")
        read_binary = bytes([0x00, 0xB0, self.offset >> 8, self.offset & 0xFF, self.length])
        data = exchange(connection, read_binary, "READ BINARY")
        if len(data) != self.length:
            raise ReadFailed(f"READ BINARY: got {len(data)} bytes, expected {self.length}")
        digits = decode_digits(data, self.encoding)
        try:
            return CardIdentity(technician_id=digits)
        except LedgerError:
            raise ReadFailed(
                f"READ BINARY: {data.hex().upper()} is not a 14-digit technician ID "
                f"({self.encoding})"
            ) from None


def decode_digits(data: bytes, encoding: Encoding) -> str:
    """The digits in ``data``, with the usual padding (spaces, NUL, FF, BCD nibble F) stripped.

    Anything else stays in, so the caller's 14-digit check refuses it.
    """
    if encoding == "bcd":
        return data.hex().upper().rstrip("F")
    return data.rstrip(b" \x00\xff").decode("latin-1")


def parse_hex(text: str, what: str) -> bytes:
    """Bytes from hex written as 'A0000000031010', 'A0 00 00 …' or 'A0:00:…'."""
    cleaned = text.replace(" ", "").replace(":", "")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not hexadecimal") from None
