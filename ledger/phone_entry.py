"""スマホ入場 on the write side: the passkey ceremonies (the `webauthn` library, Duo Labs) and what
a phone's tap says, parsed and checked before anything is stored.

A phone signs each tap with its passkey. The WebAuthn challenge of a tap is the SHA-256 of the
tap's own text (``payload``: tap ID, gate code, direction, scan time, position), so the signature
covers exactly what is recorded: a tap can be signed at the gate without signal and sent later,
and a signed tap replayed is the same tap again (answered ``duplicate``), never another one.
Registration uses a challenge the server signs (HMAC with the gate-code key) and dates, so no
challenge has to be stored between the two steps of the ceremony.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from webauthn import (
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ledger.domain.geo import Fix
from ledger.errors import InvalidValue, NotPermitted
from ledger.ids import TechnicianId

RP_NAME = "CCUS 就業履歴台帳"
# A registration's challenge is good for this long after the options were made.
REGISTRATION_WINDOW = timedelta(minutes=10)
MAX_PAYLOAD = 2_000


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise InvalidValue("credential", "credential.format", "is not base64url") from None


@dataclass(frozen=True)
class PhoneTapPayload:
    """What a phone signed for one tap."""

    tap_id: str
    code: str
    direction: str
    scanned_at: datetime  # on the phone's clock
    fix: Fix | None


def tap_challenge(payload: str) -> bytes:
    return hashlib.sha256(payload.encode()).digest()


def parse_payload(payload: str) -> PhoneTapPayload:
    if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD:
        raise InvalidValue("payload", "payload.format", "is not a phone tap")
    try:
        data = json.loads(payload)
    except ValueError:
        raise InvalidValue("payload", "payload.format", "is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidValue("payload", "payload.format", "is not a JSON object")
    for field in ("tap_id", "code", "direction", "scanned_at"):
        if not isinstance(data.get(field), str):
            raise InvalidValue(field, f"{field}.required", "must be a string")
    try:
        scanned_at = datetime.fromisoformat(data["scanned_at"].replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue("scanned_at", "scanned_at.format", "is not an ISO 8601 time") from None
    position = data.get("position")
    fix = None
    if position is not None:
        if not isinstance(position, dict):
            raise InvalidValue("position", "position.format", "must be an object or null")
        try:
            fix = Fix(float(position["latitude"]), float(position["longitude"]),
                      float(position["accuracy"]))
        except (KeyError, TypeError, ValueError):
            raise InvalidValue("position", "position.format",
                               "needs latitude, longitude and accuracy") from None
    return PhoneTapPayload(data["tap_id"], data["code"], data["direction"], scanned_at, fix)


def credential_id_of(credential: dict[str, Any]) -> str:
    raw = credential.get("rawId", credential.get("id")) if isinstance(credential, dict) else None
    if not isinstance(raw, str) or not raw:
        raise InvalidValue("credential", "credential.format", "has no credential ID")
    return b64url(unb64url(raw))  # one spelling (no padding) whatever the browser sent


def verify_tap(credential: dict[str, Any], payload: str, public_key: str, rp_id: str,
               origin: str) -> None:
    """The phone's passkey signed this payload, with the worker's unlock (user verification)."""
    try:
        verify_authentication_response(
            credential=credential, expected_challenge=tap_challenge(payload),
            expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=unb64url(public_key), credential_current_sign_count=0,
            require_user_verification=True)
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as error:
        raise NotPermitted("credential", "credential.signature",
                           f"the passkey's signature does not hold: {error}") from None


def registration_challenge(key: bytes, technician_id: str, now: datetime) -> bytes:
    """A random challenge, dated and signed by the server: the finishing step checks it
    without any stored state."""
    nonce = secrets.token_bytes(16)
    stamp = int(now.timestamp()).to_bytes(8, "big")
    body = nonce + stamp + TechnicianId(technician_id).encode()
    return body + hmac.new(key, b"reg" + body, hashlib.sha256).digest()


def check_registration_challenge(key: bytes, challenge: bytes, technician_id: str,
                                 now: datetime) -> None:
    body, tag = challenge[:-32], challenge[-32:]
    if (len(challenge) < 56 or not hmac.compare_digest(
            tag, hmac.new(key, b"reg" + body, hashlib.sha256).digest())
            or body[24:].decode(errors="replace") != technician_id):
        raise InvalidValue("credential", "credential.challenge", "was not made for this worker")
    made = datetime.fromtimestamp(int.from_bytes(body[16:24], "big"), now.tzinfo)
    if not made <= now <= made + REGISTRATION_WINDOW:
        raise InvalidValue("credential", "credential.challenge", "has expired; start again")


def registration_options(key: bytes, technician_id: str, name: str, rp_id: str,
                         now: datetime) -> str:
    """The options (JSON) a page gives `navigator.credentials.create` to make the passkey."""
    options = generate_registration_options(
        rp_id=rp_id, rp_name=RP_NAME, user_name=technician_id, user_display_name=name,
        user_id=technician_id.encode(), challenge=registration_challenge(key, technician_id, now),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED))
    return options_to_json(options)


def verify_registration(key: bytes, credential: dict[str, Any], technician_id: str, rp_id: str,
                        origin: str, now: datetime) -> tuple[str, str]:
    """(credential ID, public key), both base64url, of a passkey made with our challenge."""
    try:
        client_data = json.loads(unb64url(credential["response"]["clientDataJSON"]))
        challenge = unb64url(client_data["challenge"])
    except (KeyError, TypeError, ValueError):
        raise InvalidValue("credential", "credential.format",
                           "is not a WebAuthn registration") from None
    check_registration_challenge(key, challenge, technician_id, now)
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=origin, require_user_verification=True)
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as error:
        raise InvalidValue("credential", "credential.registration",
                           f"the passkey could not be verified: {error}") from None
    return b64url(verified.credential_id), b64url(verified.credential_public_key)
