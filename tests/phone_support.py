"""A software passkey for the integration tests of phone entry: it makes WebAuthn registration
and assertion responses as a phone's platform authenticator does (ES256, attestation "none",
user presence and verification), so the server's checks (the `webauthn` library) run for real.
The browser tests use Chromium's own virtual authenticator instead."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from ledger.domain.phone import device_id_of, phone_reader_id
from ledger.phone_entry import b64url, tap_challenge, unb64url

RP_ID = "localhost"
ORIGIN = "http://localhost:8000"
UP_UV = 0x01 | 0x04


@dataclass
class SoftPasskey:
    rp_id: str = RP_ID
    origin: str = ORIGIN
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    counter: int = 0
    sequence: int = 0

    @property
    def reader_id(self) -> str:
        return phone_reader_id(device_id_of(b64url(self.credential_id)))

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: bytes) -> bytes:
        return json.dumps({"type": kind, "challenge": b64url(challenge), "origin": self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options_json: str) -> dict[str, Any]:
        """The registration response to the options `Ledger.phone_registration_options` made."""
        options = json.loads(options_json)
        challenge = unb64url(options["challenge"])
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest() + bytes([UP_UV | 0x40])
                     + self.counter.to_bytes(4, "big") + bytes(16)
                     + len(self.credential_id).to_bytes(2, "big") + self.credential_id
                     + self._cose_key())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {"clientDataJSON": b64url(self._client_data("webauthn.create",
                                                                        challenge)),
                             "attestationObject": b64url(attestation)}}

    def sign(self, payload: str) -> dict[str, Any]:
        """The assertion of a tap: the payload's SHA-256 is the challenge."""
        self.counter += 1
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest() + bytes([UP_UV])
                     + self.counter.to_bytes(4, "big"))
        client_data = self._client_data("webauthn.get", tap_challenge(payload))
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {"clientDataJSON": b64url(client_data),
                             "authenticatorData": b64url(auth_data),
                             "signature": b64url(signature)}}

    def tap(self, code: str, direction: str, scanned_at: datetime,
            position: dict[str, float] | None = None,
            reader_id: str | None = None) -> tuple[str, dict[str, Any]]:
        """A tap's payload (the next sequence number) and its signature."""
        self.sequence += 1
        payload = json.dumps({
            "tap_id": f"{reader_id or self.reader_id}:{self.sequence}", "code": code,
            "direction": direction, "scanned_at": scanned_at.isoformat(), "position": position})
        return payload, self.sign(payload)
