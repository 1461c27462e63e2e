"""スマホ入場: a tap a worker's phone signed with its passkey, and the answer to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import CreateModel
from ledger.phone_entry import MAX_PAYLOAD


class PhoneTapCreate(CreateModel):
    """What the phone sends: the tap's text as signed, when it was sent (on the phone's clock),
    and the passkey's assertion over the text (WebAuthn, as `navigator.credentials.get`
    returned it, in its JSON form)."""

    payload: str = Field(max_length=MAX_PAYLOAD, description=(
        "The tap as signed: JSON text with tap_id (`<the phone's reader ID>:<n>`), code (the "
        "gate code scanned), direction (in/out), scanned_at (ISO 8601, the phone's clock) and "
        "position ({latitude, longitude, accuracy} or null)"))
    sent_at: datetime = Field(description="When the phone sent it, on the phone's clock "
                                          "(with scanned_at, how long it was kept offline)")
    credential: dict[str, Any] = Field(description="The passkey's assertion of the payload")


class PhoneTapAnswer(BaseModel):
    """The tap as stored: `accepted`, or `duplicate` for a tap sent again (its first answer's
    site and flags; nothing stored twice). Flags by the same rule as the site's exceptions list:
    the phone's own (printed_code, outside_area, no_position) and the entry checks'."""

    tap_id: str
    status: Literal["accepted", "duplicate"]
    position: int | None = Field(description="The tap's log position (None for a duplicate)")
    site_id: str
    direction: Literal["in", "out"]
    flags: list[str]
