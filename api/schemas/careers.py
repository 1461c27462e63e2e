"""就業履歴, 就業日数, 能力評価, 建退共: a worker's career as the read models hold it."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from api.schemas.lists import Freshness, ListPublic, PublicModel
from projections.kentaikyo import Ineligibility
from projections.levels import CardColour
from projections.queries import CareerSummary, DayCount, LevelJudgment, Outcome
from projections.records import RecordSource, RecordStatus


class WorkRecordPublic(PublicModel):
    """One worker × one site × one work date (JST), with the log positions behind it."""

    technician_id: str
    site_id: str
    work_date: date
    employer_business_id: str | None
    trade: str | None
    position: str | None = Field(description="立場: 職長, 班長, 一般 …")
    work_content: str | None
    first_entry: datetime | None
    last_exit: datetime | None
    minutes_on_site: int | None
    source: RecordSource
    status: RecordStatus = Field(description="Only `counted` records count days")
    flags: list[str]
    event_positions: list[int] = Field(description="Log positions of the events behind it")


class WorkRecordList(ListPublic):
    technician_id: str
    items: list[WorkRecordPublic]


class DayCountPublic(PublicModel):
    work_days: int = Field(description="就業日数: distinct dates with a counted record")
    record_count: int = Field(description="就業履歴数: counted records")


class TradeDays(DayCountPublic):
    trade: str | None


class EmployerDays(DayCountPublic):
    employer_business_id: str | None


class SiteDays(DayCountPublic):
    site_id: str


class CareerSummaryPublic(Freshness):
    """Counted records only, within the caller's view (a prime: its own sites; an employer:
    records it is the employer of)."""

    technician_id: str
    date_from: date
    date_to: date
    work_days: int
    record_count: int
    by_trade: list[TradeDays]
    by_employer: list[EmployerDays]
    by_site: list[SiteDays]

    @classmethod
    def of(cls, summary: CareerSummary, position: int) -> CareerSummaryPublic:
        def days(count: DayCount) -> dict[str, int]:
            return {"work_days": count.work_days, "record_count": count.record_count}

        return cls(
            technician_id=summary.technician_id, date_from=summary.date_from,
            date_to=summary.date_to, projection_position=position, **days(summary.total),
            by_trade=[TradeDays(trade=k, **days(v)) for k, v in summary.by_trade.items()],
            by_employer=[EmployerDays(employer_business_id=k, **days(v))
                         for k, v in summary.by_employer.items()],
            by_site=[SiteDays(site_id=k, **days(v)) for k, v in summary.by_site.items()],
        )


class LevelFiguresPublic(PublicModel):
    work_days: int
    trade_work_days: int
    foreman_days: int
    team_leader_days: int
    certified_work_days: int = Field(description="経歴証明 days in this trade")
    certified_other_trades_days: int


class LevelJudgmentPublic(PublicModel):
    """レベル判定 for one trade, with what is missing for the next level."""

    trade: str
    trade_name: str
    level: int
    card_colour: CardColour
    reached_route: str | None
    next_level: int | None
    next_route: str | None
    missing: list[str]
    figures: LevelFiguresPublic
    caveats: list[str]
    unrecognised_qualifications: list[str]

    @classmethod
    def of(cls, judged: LevelJudgment) -> LevelJudgmentPublic:
        j, f = judged.judgment, judged.figures
        return cls(
            trade=judged.trade, trade_name=judged.trade_name, level=j.level,
            card_colour=j.card_colour, reached_route=j.reached_route, next_level=j.next_level,
            next_route=j.next_route, missing=list(j.missing), caveats=list(j.caveats),
            unrecognised_qualifications=list(j.unrecognised_qualifications),
            figures=LevelFiguresPublic(
                work_days=f.work_days, trade_work_days=f.trade_work_days,
                foreman_days=f.foreman_days, team_leader_days=f.team_leader_days,
                certified_work_days=f.certified.work_days,
                certified_other_trades_days=f.certified_other_trades_days),
        )


class LevelJudgmentList(ListPublic):
    technician_id: str
    items: list[LevelJudgmentPublic]


class KentaikyoDayPublic(PublicModel):
    work_date: date
    outcome: Outcome
    points_yen: int
    reason: Ineligibility | None
    carrying_site_id: str | None = Field(
        description="Already covered by that site's record (null if not yours to see)")
    event_positions: list[int]


class KentaikyoLinePublic(PublicModel):
    technician_id: str
    employer_business_id: str | None
    site_id: str
    prime_business_id: str
    upper_chain: list[str]
    eligible_days: int
    not_eligible_days: int
    points_yen: int
    days: list[KentaikyoDayPublic]


class WorkerKentaikyoPublic(Freshness):
    """建退共 for one worker and month: days and points (1 point = 1 yen) per employer × site."""

    technician_id: str
    month: str
    due_on: date = Field(description="The work report is due by the end of the next month")
    eligible_days: int
    points_yen: int
    lines: list[KentaikyoLinePublic]
