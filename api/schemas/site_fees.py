"""現場利用料: a prime's monthly site-fee bills."""

from __future__ import annotations

from pydantic import Field

from api.schemas.lists import Freshness, PublicModel


class SiteFeeLinePublic(PublicModel):
    site_id: str
    work_month: str = Field(description="YYYY-MM of the work days (late records of an earlier "
                            "month are billed with a later bill)")
    worker_days: int = Field(description="counted work records (worker × site × day) billed")
    yen: int = Field(description="10 yen per worker-day")


class SiteFeeBillPublic(PublicModel):
    month: str = Field(description="the billing month, YYYY-MM")
    usage_yen: int = Field(description="new usage billed with this month")
    carried_in_yen: int = Field(description="carried over from earlier months")
    billed_yen: int
    carried_out_yen: int = Field(description="carried over to the next month")
    outcome: str = Field(description="billed, carried_over (under 10,000 yen) or nothing_due")
    months_carried: int = Field(description="months the amount had been carried over by this "
                                "bill (at most 6), this month included when carried on")
    worker_days: int = Field(description="worker-days in `lines`")
    lines: list[SiteFeeLinePublic]
    position: int = Field(description="log position of the billing event")


class SiteFeeBillList(Freshness):
    business_id: str
    site_id: str | None = Field(description="when given: only that site's lines")
    items: list[SiteFeeBillPublic]
