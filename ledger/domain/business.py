"""事業者 — a business: a company or a sole proprietor (一人親方)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.actors import Actor
from ledger.domain.base import LedgerAggregate, require_date, require_text
from ledger.errors import InvalidState, InvalidValue
from ledger.ids import BusinessId, aggregate_id


def business_aggregate_id(business_id: str) -> UUID:
    return aggregate_id("business", business_id)


class Business(LedgerAggregate):
    @staticmethod
    def create_id(business_id: str, **_: Any) -> UUID:
        return business_aggregate_id(business_id)

    @classmethod
    def register(cls, business_id: str, name: str, actor: Actor) -> Business:
        business: Business = cls(
            business_id=BusinessId(business_id), name=require_text(name, "name"), actor=actor
        )
        return business

    @event("Registered")
    def __init__(self, business_id: str, name: str, actor: Actor) -> None:
        self.business_id = business_id
        self.name = name
        self.kentaikyo_contract_number: str | None = None
        self.kentaikyo_since: date | None = None

    def enroll_in_kentaikyo(self, contract_number: str, since: date, actor: Actor) -> None:
        """共済契約者: the business joins Kentaikyo as a contracting employer."""
        if self.kentaikyo_contract_number is not None:
            raise InvalidState("kentaikyo", "kentaikyo.once", "the business is enrolled already")
        if not isinstance(contract_number, str) or not contract_number.isdigit():
            raise InvalidValue(
                "contract_number", "contract_number.format", "must be a string of digits"
            )
        self._enrolled(contract_number, require_date(since, "since"), actor)

    @event("KentaikyoEnrolled")
    def _enrolled(self, contract_number: str, since: date, actor: Actor) -> None:
        self.kentaikyo_contract_number = contract_number
        self.kentaikyo_since = since
