"""Shared field types and the receipt every write returns."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from ledger.ids import BusinessId, CardId, ReaderId, SiteId, TechnicianId


def _pattern(id_type: Any) -> str:
    """The ledger's own ID pattern, so the schema and the domain agree."""
    return f"^{id_type.pattern.pattern}$"


def _doc(id_type: Any) -> str:
    return str(id_type.__doc__ or id_type.rule).strip()


TechnicianIdField = Annotated[str, Field(pattern=_pattern(TechnicianId), description=_doc(
    TechnicianId), examples=["12345678901234"])]
SiteIdField = Annotated[str, Field(pattern=_pattern(SiteId), description=_doc(SiteId),
                                   examples=["10000000000001"])]
BusinessIdField = Annotated[str, Field(pattern=_pattern(BusinessId), description=_doc(
    BusinessId), examples=["100"])]
ReaderIdField = Annotated[str, Field(pattern=_pattern(ReaderId), description=_doc(ReaderId),
                                     examples=["GATE-1"])]
CardIdField = Annotated[str, Field(pattern=_pattern(CardId), description=_doc(CardId),
                                   examples=["04A1B2C3"])]
Reason = Annotated[str, Field(min_length=1, max_length=500, description="Why (理由)")]

TechnicianIdPath = Annotated[str, Path(pattern=_pattern(TechnicianId),
                                       description=_doc(TechnicianId))]
SiteIdPath = Annotated[str, Path(pattern=_pattern(SiteId), description=_doc(SiteId))]
BusinessIdPath = Annotated[str, Path(pattern=_pattern(BusinessId), description=_doc(BusinessId))]
ReaderIdPath = Annotated[str, Path(pattern=_pattern(ReaderId), description=_doc(ReaderId))]
CardIdPath = Annotated[str, Path(pattern=_pattern(CardId), description=_doc(CardId))]


class CreateModel(BaseModel):
    """A request body: unknown fields are an error naming the field."""

    model_config = ConfigDict(extra="forbid")


class Receipt(BaseModel):
    """The write is stored; wait for the read models to pass `position` to read it back."""

    position: int = Field(description="Log position (notification ID) after the write")
