"""What every list answer shares: the next page's cursor and how fresh the answer is."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PublicModel(BaseModel):
    """An answer built from a read model's dataclass (attributes, properties included)."""

    model_config = ConfigDict(from_attributes=True)


class Freshness(BaseModel):
    projection_position: int = Field(
        description="The log position the read models had reached for this answer; pass a "
        "write's `position` as `min_position` to read that write back")


class ListPublic(Freshness):
    next_cursor: str | None = Field(
        description="Pass as `cursor` (same path and parameters) for the next page; null on the "
        "last page")
