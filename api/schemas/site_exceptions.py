"""Resolving a site's exceptions: an unknown card assigned to a worker on the roster."""

from __future__ import annotations

from api.schemas.common import CreateModel, Reason, TechnicianIdField


class UnknownCardAssign(CreateModel):
    technician_id: TechnicianIdField
    reason: Reason
