"""Resolving a site's exceptions: an unknown card assigned to a worker on the roster."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import CreateModel, Reason, TechnicianIdField


class UnknownCardAssign(CreateModel):
    technician_id: TechnicianIdField
    tap_id: str = Field(min_length=1, max_length=200, description="one of the card's flagged "
                        "taps at the site, as the exceptions list shows it")
    reason: Reason
