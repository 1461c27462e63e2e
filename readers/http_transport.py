"""The HTTP transport: ``POST {base_url}/v1/taps`` with the reader's bearer token (stdlib only)."""

from __future__ import annotations

import http.client
import json
import urllib.error
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from readers.delivery import TapResult, UploadAck
from readers.spool import SpooledTap
from readers.transport import (
    BatchRefused,
    TransportUnauthorized,
    TransportUnavailable,
    tap_payload,
)

RETRYABLE = {408, 425, 429}  # timeouts and rate limits: the server is busy, not refusing
MALFORMED = {400, 413, 422}


class HttpTransport:
    """One connection kept alive across uploads (HTTP/1.1): a gate uploads every few seconds,
    and a new TCP (and TLS) handshake each time cost more than the batch. A kept connection the
    server closed while idle is found on the next send and that send is made once more on a
    new connection; a resent batch is harmless (its taps are answered `duplicate`)."""

    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"server URL {base_url!r} must start with http:// or https://")
        if not token:
            raise ValueError("a reader token is needed for the HTTP transport (--token)")
        self.url = base_url.rstrip("/") + "/v1/taps"
        parts = urlsplit(self.url)
        self._https = parts.scheme == "https"
        self._host, self._port, self._path = parts.hostname or "", parts.port, parts.path
        self._token = token
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self.connections_opened = 0

    def send(self, taps: Sequence[SpooledTap]) -> UploadAck:
        body = json.dumps({"taps": [tap_payload(tap) for tap in taps]}).encode()
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json",
                   "Accept": "application/json"}
        while True:
            reused = self._connection is not None
            connection = self._connect()
            try:
                connection.request("POST", self._path, body, headers)
                response = connection.getresponse()
                payload = response.read()
            except (http.client.HTTPException, OSError) as error:
                self.close()
                if reused and not isinstance(error, TimeoutError):
                    continue  # closed by the server while idle: once more, on a new one
                raise TransportUnavailable(f"{self.url}: {error}") from None
            if response.will_close:
                self.close()
            if response.status >= 400:
                raise _refused(response.status, payload, self.url)
            return parse_ack(payload, self.url)

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._host, self._port, timeout=self.timeout)
            self.connections_opened += 1
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _refusal(error: urllib.error.HTTPError) -> Exception:
    return _refused(error.code, error.read(), error.url)


def _refused(code: int, body: bytes, url: str) -> Exception:
    detail = body[:500].decode("utf-8", "replace")
    message = f"{url}: HTTP {code} {detail}".strip()
    if code in (401, 403):
        return TransportUnauthorized(message)
    if code in MALFORMED:
        return BatchRefused(message)
    if code in RETRYABLE or code >= 500:
        return TransportUnavailable(message)
    # 404, 405 …: a wrong --server, not a bad tap. Never dead-letter taps for it; keep them.
    return TransportUnavailable(f"{message} (is the server URL right?)")


def parse_ack(payload: bytes, url: str = "") -> UploadAck:
    """The contract's response body; anything else means the batch's fate is unknown."""
    try:
        document = json.loads(payload)
        results = [_result(item) for item in document["results"]]
        server_time = document.get("server_time")
        position = document.get("position")
        return UploadAck(
            results=results,
            server_time=None if server_time is None else _aware(server_time),
            position=None if position is None else int(position),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise TransportUnavailable(
            f"{url}: malformed response ({error}): {payload[:200]!r}"
        ) from None


def _result(item: dict[str, Any]) -> TapResult:
    position = item.get("position")
    return TapResult(
        tap_id=str(item["tap_id"]),
        status=str(item["status"]),
        flags=tuple(str(flag) for flag in item.get("flags") or ()),
        reason=None if item.get("reason") is None else str(item["reason"]),
        position=None if position is None else int(position),
    )


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"server_time {text} has no time zone")
    return moment
