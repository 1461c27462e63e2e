"""A virtual card for vpcd: speaks the card side of vpcd's socket protocol.

vpcd (Debian's vsmartcard-vpcd) listens on TCP; the card connects to it. Every message is a
2-byte big-endian length then a payload. One-byte payloads are control messages (0 power off,
1 power on, 2 reset, 4 "send the ATR"); anything longer is a command APDU to answer. Closing
the socket is how a card leaves the reader.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable

POWER_OFF, POWER_ON, RESET, GET_ATR = 0, 1, 2, 4
Answer = Callable[[bytes], bytes | None]  # command APDU → response APDU, or None to "pull the card"


class VirtualCard:
    """One card on the virtual reader while :meth:`insert`-ed; answers APDUs with ``answer``."""

    def __init__(self, port: int, answer: Answer, atr: bytes = bytes.fromhex("3B8080010101")):
        self.port, self.answer, self.atr = port, answer, atr
        self.apdus: list[bytes] = []  # what the reader sent, for assertions
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def insert(self) -> None:
        self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._serve, args=(self._sock,), daemon=True)
        self._thread.start()

    def remove(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # the card may have left on its own (pulled)
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _serve(self, sock: socket.socket) -> None:
        try:
            while (message := _receive(sock)) is not None:
                if len(message) == 1:
                    if message[0] == GET_ATR:
                        _send(sock, self.atr)
                    continue  # power on/off and reset need no answer
                self.apdus.append(message)
                response = self.answer(message)
                if response is None:  # the worker pulled the card away mid-read
                    sock.close()
                    return
                _send(sock, response)
        except OSError:
            return  # removed


def _receive(sock: socket.socket) -> bytes | None:
    header = _exactly(sock, 2)
    if header is None:
        return None
    (length,) = struct.unpack(">H", header)
    return _exactly(sock, length)


def _exactly(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">H", len(payload)) + payload)
