"""Card applications for the virtual card: what a card answers to the reader's APDU profiles."""

from __future__ import annotations

from collections.abc import Callable

OK = b"\x90\x00"
NOT_SUPPORTED = b"\x6d\x00"


def uid_card(uid: bytes) -> Callable[[bytes], bytes | None]:
    """A contactless card behind a PC/SC reader: GET DATA (FF CA 00 00 00) gives its UID."""

    def answer(apdu: bytes) -> bytes | None:
        return uid + OK if apdu == bytes.fromhex("FFCA000000") else NOT_SUPPORTED

    return answer


def iso_card(aid: bytes, file_id: bytes, content: bytes,
             pull_on_read: bool = False) -> Callable[[bytes], bytes | None]:
    """An ISO 7816-4 card with one application holding one transparent EF.

    ``pull_on_read``: the worker pulls the card away when READ BINARY arrives.
    """
    state = {"application": False, "file": False}

    def answer(apdu: bytes) -> bytes | None:
        if apdu[:4] == bytes.fromhex("00A40400") and apdu[5:5 + apdu[4]] == aid:
            state["application"] = True
            return OK
        if apdu[:4] == bytes.fromhex("00A4000C") and apdu[5:7] == file_id:
            state["file"] = state["application"]
            return OK if state["file"] else b"\x6a\x82"
        if apdu[:2] == bytes.fromhex("00B0"):
            if pull_on_read:
                return None
            if not state["file"]:
                return b"\x69\x86"  # no current EF
            offset, length = int.from_bytes(apdu[2:4], "big"), apdu[4] or 256
            return content[offset:offset + length] + OK
        return b"\x6a\x82" if apdu[1] == 0xA4 else NOT_SUPPORTED

    return answer


def refusing_card(status: bytes) -> Callable[[bytes], bytes | None]:
    """A card that answers every command with one error status word."""
    return lambda apdu: status
