"""Gate readers and cards: the registries that tell who a tap belongs to."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.actors import Actor
from ledger.directions import DirectionMode as DirectionMode  # there for the gate agent
from ledger.domain.base import LedgerAggregate, require_text
from ledger.errors import InvalidState, InvalidValue
from ledger.ids import CardId, ReaderId, SiteId, TechnicianId, aggregate_id


def reader_aggregate_id(reader_id: str) -> UUID:
    return aggregate_id("reader", reader_id)


def card_aggregate_id(card_id: str) -> UUID:
    return aggregate_id("card", card_id)


class Reader(LedgerAggregate):
    """A gate reader registered to one site. It may only append taps for that site."""

    @staticmethod
    def create_id(reader_id: str, **_: Any) -> UUID:
        return reader_aggregate_id(reader_id)

    @classmethod
    def register(cls, reader_id: str, site_id: str, direction_mode: str, actor: Actor) -> Reader:
        try:
            mode = DirectionMode(direction_mode)
        except ValueError:
            raise InvalidValue(
                "direction_mode", "direction_mode.enum", f"{direction_mode!r} is not in/out/auto"
            ) from None
        reader: Reader = cls(
            reader_id=ReaderId(reader_id), site_id=SiteId(site_id), direction_mode=mode, actor=actor
        )
        return reader

    class Registered(LedgerAggregate.Created):
        """Version 2 added ``direction_mode``. Version-1 readers read every tap as it came and
        alternated per worker, which is what ``auto`` means now."""

        class_version = 2
        reader_id: str
        site_id: str
        direction_mode: DirectionMode
        actor: Actor

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["direction_mode"] = DirectionMode.AUTO

    @event(Registered)
    def __init__(
        self, reader_id: str, site_id: str, direction_mode: DirectionMode, actor: Actor
    ) -> None:
        self.reader_id = reader_id
        self.site_id = site_id
        self.direction_mode = direction_mode
        self.retired = False

    def retire(self, reason: str, actor: Actor) -> None:
        if self.retired:
            raise InvalidState("reader_id", "reader.retired", "the reader is retired already")
        self._retired(require_text(reason, "reason"), actor)

    @event("Retired")
    def _retired(self, reason: str, actor: Actor) -> None:
        self.retired = True


class Card(LedgerAggregate):
    """A card issued to one worker. A revoked card's taps are stored and flagged."""

    @staticmethod
    def create_id(card_id: str, **_: Any) -> UUID:
        return card_aggregate_id(card_id)

    @classmethod
    def issue(cls, card_id: str, technician_id: str, actor: Actor) -> Card:
        card: Card = cls(
            card_id=CardId(card_id), technician_id=TechnicianId(technician_id), actor=actor
        )
        return card

    @event("Issued")
    def __init__(self, card_id: str, technician_id: str, actor: Actor) -> None:
        self.card_id = card_id
        self.technician_id = technician_id
        self.revoked = False

    def revoke(self, reason: str, actor: Actor) -> None:
        if self.revoked:
            raise InvalidState("card_id", "card.revoked", "the card is revoked already")
        self._revoked(require_text(reason, "reason"), actor)

    @event("Revoked")
    def _revoked(self, reason: str, actor: Actor) -> None:
        self.revoked = True
