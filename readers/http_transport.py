"""The HTTP transport: ``POST {base_url}/v1/taps`` with the reader's bearer token (stdlib only)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"server URL {base_url!r} must start with http:// or https://")
        if not token:
            raise ValueError("a reader token is needed for the HTTP transport (--token)")
        self.url = base_url.rstrip("/") + "/v1/taps"
        self._token = token
        self.timeout = timeout

    def send(self, taps: Sequence[SpooledTap]) -> UploadAck:
        body = json.dumps({"taps": [tap_payload(tap) for tap in taps]}).encode()
        request = urllib.request.Request(
            self.url, data=body, method="POST",
            headers={"Authorization": f"Bearer {self._token}",
                     "Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            raise _refusal(error) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            raise TransportUnavailable(f"{self.url}: {reason}") from None
        return parse_ack(payload, self.url)


def _refusal(error: urllib.error.HTTPError) -> Exception:
    detail = error.read()[:500].decode("utf-8", "replace")
    message = f"{error.url}: HTTP {error.code} {detail}".strip()
    if error.code in (401, 403):
        return TransportUnauthorized(message)
    if error.code in MALFORMED:
        return BatchRefused(message)
    if error.code in RETRYABLE or error.code >= 500:
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
