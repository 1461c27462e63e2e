"""Resolving a site's exceptions: an unknown card assigned to a worker on the roster; a missing
exit resolved."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from api.schemas.common import CreateModel, Reason, TechnicianIdField


class UnknownCardAssign(CreateModel):
    technician_id: TechnicianIdField
    tap_id: str = Field(min_length=1, max_length=200, description="one of the card's flagged "
                        "taps at the site, as the exceptions list shows it")
    reason: Reason


class MissingExitResolve(CreateModel):
    technician_id: TechnicianIdField
    work_date: date = Field(description="the past work date (JST) whose entry no exit closed")
    exit_at: datetime | None = Field(
        description="when the worker left, as the site's staff state it (with its offset); "
        "null: left at a time unknown")
    reason: Reason
