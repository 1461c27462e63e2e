"""Cards."""

from __future__ import annotations

from api.schemas.common import CardIdField, CreateModel, Reason, Receipt, TechnicianIdField


class CardCreate(CreateModel):
    card_id: CardIdField
    technician_id: TechnicianIdField


class CardPublic(Receipt):
    card_id: str
    technician_id: str


class CardRevoke(CreateModel):
    reason: Reason
