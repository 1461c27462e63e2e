"""事業者: businesses."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from api.schemas.common import BusinessIdField, CreateModel, Receipt


class BusinessCreate(CreateModel):
    business_id: BusinessIdField
    name: str = Field(min_length=1, max_length=200, examples=["鈴木建設"])


class BusinessPublic(Receipt):
    business_id: str


class KentaikyoContractCreate(CreateModel):
    """共済契約者: the business joins Kentaikyo."""

    contract_number: str = Field(pattern=r"^[0-9]+$", max_length=40)
    since: date
