"""現場: sites, their subcontract structure and roster."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from api.schemas.common import BusinessIdField, CreateModel, Receipt, SiteIdField
from ledger.domain.base import Position
from ledger.domain.site import KentaikyoMethod


class SiteCreate(CreateModel):
    site_id: SiteIdField
    name: str = Field(min_length=1, max_length=200, examples=["新宿三丁目ビル新築工事"])
    prime_business_id: BusinessIdField
    kentaikyo_method: KentaikyoMethod
    opened_on: date


class SitePublic(Receipt):
    site_id: str


class SubcontractCreate(CreateModel):
    """施工体制: a business under one already on the site."""

    business_id: BusinessIdField
    parent_business_id: BusinessIdField


class RosterEntrySet(CreateModel):
    """作業員名簿: the worker's line on the site's roster."""

    employer_business_id: BusinessIdField
    trade: str = Field(min_length=1, max_length=40, examples=["鉄筋"])
    position: Position
    since: date


class SiteClose(CreateModel):
    closed_on: date
