"""現場コード — the short-lived code a site's gate page shows, which a worker's phone scans.

A code is a token signed by the server (HMAC-SHA256 with the gate-code key, a file outside the
database: `ledger.storage.gate_code_key`) for one site and, if the gate page asks, one direction.
It proves the phone was in front of the gate's screen while the code was shown: a screenshot sent
to someone at home has expired before it is useful. A printed fallback code (for sites with no
screen) is valid for one JST day, and taps made with it are marked as such.

Pure functions of the key, the token and the times: no I/O, so the domain and its tests use them
directly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum

from ledger.clock import JST, require_aware
from ledger.errors import InvalidValue
from ledger.ids import SiteId

# A screen code is shown for STEP and accepted for WINDOW after it was issued: a code scanned
# just before the screen changed still works, a photo forwarded a minute later does not.
STEP = timedelta(seconds=10)
WINDOW = timedelta(seconds=30)
# The scan moment is the server's receive time less the delay the phone measured on its own
# clock (sent − scanned), so a phone whose clock is wrong is judged right; this much slack covers
# the network's share of that delay.
CODE_SLACK = timedelta(seconds=5)
# A phone without signal keeps its tap with the code it scanned and sends it later: accepted when
# the code was valid at the scan time the phone states, and the tap arrives within this bound
# (the end of the month after the work date is when manual entries close; three days is enough
# for a phone to find signal again and short enough that a stale claim is not taken).
OFFLINE_BOUND = timedelta(days=3)
VERSION = "1"


class CodeKind(str, Enum):
    SCREEN = "screen"  # shown on the gate page, changes every STEP
    PRINTED = "printed"  # printed for a site with no screen: valid for one JST day


@dataclass(frozen=True)
class GateCode:
    """What a verified token says."""

    site_id: str
    direction: str | None  # "in" / "out" when the gate page fixes it; None: the worker chooses
    kind: CodeKind
    issued_at: datetime  # a screen code's issue time; a printed code's day at 00:00 JST
    digest: str  # SHA-256 of the token (hex): names the code without storing the token

    @property
    def valid_until(self) -> datetime:
        if self.kind is CodeKind.PRINTED:
            return self.issued_at + timedelta(days=1)
        return self.issued_at + WINDOW


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: str) -> str:
    tag = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return f"{_b64(payload.encode())}.{_b64(tag)}"


def _direction(direction: str | None) -> str:
    if direction not in (None, "in", "out"):
        raise InvalidValue("direction", "direction.enum", f"{direction!r} is not in or out")
    return direction or "-"


def issue_screen_code(key: bytes, site_id: str, now: datetime, direction: str | None = None) -> str:
    """The code a gate page shows at `now`: the same for the whole STEP it falls in."""
    require_aware(now, "now")
    site = SiteId(site_id)
    seconds = int(now.timestamp())
    step = int(STEP.total_seconds())
    issued = seconds - seconds % step
    return _sign(key, f"{VERSION}|{site}|{_direction(direction)}|s|{issued}")


def issue_printed_code(key: bytes, site_id: str, day: date, direction: str | None = None) -> str:
    """A printed fallback code for one JST day."""
    site = SiteId(site_id)
    return _sign(key, f"{VERSION}|{site}|{_direction(direction)}|p|{day.isoformat()}")


def read_code(key: bytes, token: str) -> GateCode:
    """The code a token holds, its signature checked (not its time: see `check_code`)."""
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 512:
        raise InvalidValue("code", "code.format", "is not a gate code")
    body, signature = token.split(".")
    try:
        payload = _unb64(body).decode()
        given = _unb64(signature)
    except (ValueError, UnicodeDecodeError):
        raise InvalidValue("code", "code.format", "is not a gate code") from None
    expected = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise InvalidValue("code", "code.signature", "is not signed by this server")
    parts = payload.split("|")
    if len(parts) != 5 or parts[0] != VERSION or parts[3] not in ("s", "p"):
        raise InvalidValue("code", "code.format", "is not a gate code of this version")
    _, site_id, direction, kind, when = parts
    if kind == "s":
        issued_at = datetime.fromtimestamp(int(when), UTC)
    else:
        issued_at = datetime.combine(date.fromisoformat(when), datetime.min.time(), JST)
    return GateCode(site_id, None if direction == "-" else direction,
                    CodeKind.SCREEN if kind == "s" else CodeKind.PRINTED, issued_at,
                    hashlib.sha256(token.encode()).hexdigest())


def scan_moment(
    received_at: datetime, phone_scanned_at: datetime, phone_sent_at: datetime
) -> datetime:
    """When the phone scanned, on the server's clock: the receive time less the delay the phone
    measured on its own clock between scanning and sending (kept offline, that is hours)."""
    require_aware(received_at, "received_at")
    require_aware(phone_scanned_at, "scanned_at")
    require_aware(phone_sent_at, "sent_at")
    delay = phone_sent_at - phone_scanned_at
    if delay < timedelta(0):
        raise InvalidValue("scanned_at", "scanned_at.order", "is later than sent_at")
    return received_at - delay


def check_code(key: bytes, token: str, site_id: str | None, scanned_at: datetime,
               received_at: datetime) -> GateCode:
    """The code, if it was valid at `scanned_at` (the server-clock scan moment, `scan_moment`)
    and the tap came within the offline bound; otherwise InvalidValue naming why. `site_id`: the
    site the tap claims (None: the code's own)."""
    require_aware(scanned_at, "scanned_at")
    require_aware(received_at, "received_at")
    code = read_code(key, token)
    if site_id is not None and code.site_id != site_id:
        raise InvalidValue("code", "code.site", "was issued for another site")
    if received_at - scanned_at > OFFLINE_BOUND:
        raise InvalidValue("scanned_at", "scanned_at.offline_bound",
                           f"is more than {OFFLINE_BOUND.days} days before the tap arrived")
    if not code.issued_at - CODE_SLACK <= scanned_at <= code.valid_until + CODE_SLACK:
        raise InvalidValue("code", "code.expired", "was not valid when it was scanned")
    return code
