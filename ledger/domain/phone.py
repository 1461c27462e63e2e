"""スマホ入場 — entry with the worker's own phone at the site's gate code.

A phone tap is an observation like a card tap: stored as it came, never refused for where the
phone was (a tap outside the site's area, or without a position, is stored and flagged). What it
proves differs: a card tap, that the card was at the site's reader; a phone tap, that the
worker's phone scanned the code the site's gate showed (or its printed code) while it was valid.

The phone has its own reader ID (``phone-<device>``) and numbers its taps, so a resend is the
same tap ID. A phone tap's aggregate ID is the code's digest and the worker: one code counts once
per worker, so the same code sent again from another phone (a photo forwarded to a colleague's
phone, a replayed request) collides with the first use and is refused.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.actors import Actor
from ledger.domain.base import LedgerAggregate
from ledger.domain.gate_codes import GateCode
from ledger.domain.geo import Area, Fix, position_flag
from ledger.domain.taps import Direction
from ledger.errors import InvalidState, InvalidValue
from ledger.ids import ReaderId, SiteId, TapId, TechnicianId, aggregate_id

PHONE_READER_PREFIX = "phone-"


def phone_reader_id(device_id: str) -> str:
    """The reader ID of one phone (a device bound to one worker)."""
    return str(ReaderId(f"{PHONE_READER_PREFIX}{device_id}"))


def phone_tap_aggregate_id(code_digest: str, technician_id: str) -> UUID:
    return aggregate_id("phone-tap", f"{code_digest}:{technician_id}")


def site_area_aggregate_id(site_id: str) -> UUID:
    return aggregate_id("site-area", site_id)


class SiteArea(LedgerAggregate):
    """The area a site's phone taps are expected from (a circle), set by its prime or site
    manager; cleared, phone taps carry no position flag."""

    @staticmethod
    def create_id(site_id: str, **_: Any) -> UUID:
        return site_area_aggregate_id(site_id)

    @classmethod
    def start(cls, site_id: str, actor: Actor) -> SiteArea:
        area: SiteArea = cls(site_id=str(SiteId(site_id)), actor=actor)
        return area

    @event("Started")
    def __init__(self, site_id: str, actor: Actor) -> None:
        self.site_id = site_id
        self.area: Area | None = None

    def set(self, area: Area | None, actor: Actor) -> None:
        if area is None:
            self._set(None, None, None, actor)
        else:
            self._set(area.latitude, area.longitude, area.radius_m, actor)

    @event("Set")
    def _set(self, latitude: float | None, longitude: float | None, radius_m: float | None,
             actor: Actor) -> None:
        self.area = None if latitude is None or longitude is None or radius_m is None else Area(
            latitude, longitude, radius_m)


class PhoneTap(LedgerAggregate):
    """One scan of a site's gate code by a worker's phone. Never changed after it is recorded."""

    @staticmethod
    def create_id(code_digest: str, technician_id: str, **_: Any) -> UUID:
        return phone_tap_aggregate_id(code_digest, technician_id)

    @classmethod
    def observed(
        cls,
        tap_id: str,
        technician_id: str,
        code: GateCode,
        direction: str,
        scanned_at: datetime,
        phone_time: datetime,
        received_at: datetime,
        area: Area | None,
        fix: Fix | None,
        actor: Actor,
    ) -> PhoneTap:
        tap = TapId(tap_id)
        reader_id = tap.split(":", 1)[0]
        if not reader_id.startswith(PHONE_READER_PREFIX):
            raise InvalidValue("tap_id", "tap_id.reader", "a phone's tap ID starts with 'phone-'")
        try:
            chosen = Direction(direction)
        except ValueError:
            raise InvalidValue("direction", "direction.enum",
                               f"{direction!r} is not in or out") from None
        if code.direction is not None:
            chosen = Direction(code.direction)  # the gate's direction, when the site fixes it
        if chosen is Direction.UNKNOWN:
            raise InvalidValue("direction", "direction.enum", "choose in or out")
        flags = [flag for flag in (position_flag(area, fix),) if flag]
        if code.kind.value == "printed":
            flags.insert(0, "printed_code")
        tap_: PhoneTap = cls(
            tap_id=str(tap), reader_id=reader_id, technician_id=str(TechnicianId(technician_id)),
            site_id=code.site_id, direction=chosen, reader_time=scanned_at, phone_time=phone_time,
            received_at=received_at, code_kind=code.kind.value, code_digest=code.digest,
            latitude=None if fix is None else fix.latitude,
            longitude=None if fix is None else fix.longitude,
            accuracy_m=None if fix is None else fix.accuracy_m,
            phone_flags=flags, actor=actor,
        )
        return tap_

    @event("Recorded")
    def __init__(
        self,
        tap_id: str,
        reader_id: str,
        technician_id: str,
        site_id: str,
        direction: Direction,
        reader_time: datetime,  # the scan, on the server's clock (`gate_codes.scan_moment`)
        phone_time: datetime,  # the scan, on the phone's own clock, as sent
        received_at: datetime,
        code_kind: str,
        code_digest: str,
        latitude: float | None,
        longitude: float | None,
        accuracy_m: float | None,
        phone_flags: list[str],  # decided here, once: the position check and a printed code
        actor: Actor,
    ) -> None:
        self.tap_id = tap_id
        self.reader_id = reader_id
        self.technician_id = technician_id
        self.site_id = site_id
        self.direction = direction
        self.reader_time = reader_time
        self.received_at = received_at
        self.code_digest = code_digest
        self.phone_flags = phone_flags


def phone_device_aggregate_id(credential_id: str) -> UUID:
    return aggregate_id("phone-device", credential_id)


def device_id_of(credential_id: str) -> str:
    """A phone's short ID (its reader ID's tail): the first 16 hex digits of the SHA-256 of its
    passkey's credential ID. The credential ID itself is up to 1023 bytes."""
    return hashlib.sha256(credential_id.encode()).hexdigest()[:16]


class PhoneDevice(LedgerAggregate):
    """A worker's phone, bound to them by a passkey (WebAuthn) registered through their employer
    or an administrator. Its taps are signed by the passkey, so the phone cannot be lent to a
    colleague who taps for the worker without the worker's own unlock (user verification)."""

    @staticmethod
    def create_id(credential_id: str, **_: Any) -> UUID:
        return phone_device_aggregate_id(credential_id)

    @classmethod
    def register(cls, credential_id: str, public_key: str, technician_id: str,
                 actor: Actor) -> PhoneDevice:
        if not credential_id or len(credential_id) > 1400:
            raise InvalidValue("credential_id", "credential_id.format", "is not a credential ID")
        device: PhoneDevice = cls(
            credential_id=credential_id, device_id=device_id_of(credential_id),
            public_key=public_key, technician_id=str(TechnicianId(technician_id)), actor=actor)
        return device

    @event("Registered")
    def __init__(self, credential_id: str, device_id: str, public_key: str, technician_id: str,
                 actor: Actor) -> None:
        self.credential_id = credential_id
        self.device_id = device_id
        self.public_key = public_key  # COSE, base64url
        self.technician_id = technician_id
        self.revoked = False

    @property
    def reader_id(self) -> str:
        return phone_reader_id(self.device_id)

    def revoke(self, reason: str, actor: Actor) -> None:
        if self.revoked:
            raise InvalidState("credential_id", "phone.revoked", "this phone is revoked already")
        self._revoke(reason, actor)

    @event("Revoked")
    def _revoke(self, reason: str, actor: Actor) -> None:
        self.revoked = True
