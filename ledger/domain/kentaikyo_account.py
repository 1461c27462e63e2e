"""建退共の口座: a contracting employer's retirement points (退職金ポイント) — bought in advance,
used by applied work reports, rebates credited by campaign — and the wage-payment dates its
reports' due dates are computed from (DESIGN §2, Kentaikyo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.actors import Actor
from ledger.clock import end_of_month
from ledger.domain.base import LedgerAggregate, require_date, require_text
from ledger.domain.settlement.rules import add_months, month_of, parse_month
from ledger.errors import InvalidState, InvalidValue
from ledger.ids import BusinessId, SiteId, TechnicianId, aggregate_id


def account_aggregate_id(business_id: str) -> UUID:
    return aggregate_id("kentaikyo-account", business_id)


@dataclass(frozen=True)
class RebateCampaign:
    """An effective-dated rebate rule: points bought from `first_day` to `last_day` (both
    inclusive) earn `rate_percent` (`linked_rate_percent` on CCUS-linked works), at most
    `cap_points` a contracting employer over the campaign, credited from `credited_from`."""

    campaign_id: str
    first_day: date
    last_day: date
    rate_percent: int
    linked_rate_percent: int
    cap_points: int
    credited_from: date

    def covers(self, purchased_on: date) -> bool:
        return self.first_day <= purchased_on <= self.last_day

    def rebate(self, points: int, ccus_linked: bool) -> int:
        """Whole points, rounded down (a fraction of a yen is not credited)."""
        rate = self.linked_rate_percent if ccus_linked else self.rate_percent
        return points * rate // 100


# s-housing.jp/archives/401561: 2 %, or 5 % on CCUS-linked works, capped at 2,000,000 points,
# credited from 2026-04.
CAMPAIGNS: tuple[RebateCampaign, ...] = (
    RebateCampaign("2025H2", date(2025, 10, 1), date(2026, 3, 31), 2, 5, 2_000_000,
                   date(2026, 4, 1)),
)


def report_due_on(wage_paid_on: date) -> date:
    """就労実績報告の期限: the end of the month after the month that contains the wage-payment
    date (掛金納付 約款 art. 11), not simply the month after the work month."""
    return end_of_month(parse_month(add_months(month_of(wage_paid_on), 1)))


def default_wage_payment(month: str) -> date:
    """Without a stated date, wages of a work month are taken as paid at its end."""
    return end_of_month(parse_month(month))


def require_points(points: object, field: str = "points") -> int:
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise InvalidValue(field, f"{field}.range", "must be a whole number of points > 0")
    return points


ReportedDay = tuple[str, str, date]  # (technician_id, site_id, work date) a report paid for


def _reported_day(day: object) -> tuple[str, str, str]:
    if not isinstance(day, tuple | list) or len(day) != 3:
        raise InvalidValue("days", "days.format",
                           "each day is (technician_id, site_id, work date)")
    technician_id, site_id, work_date = day
    return (TechnicianId(technician_id), SiteId(site_id),
            require_date(work_date, "days").isoformat())


class PointsShortfall(InvalidState):
    """A report needs more points than the balance holds: nothing is used."""

    def __init__(self, needed: int, balance: int, on: date) -> None:
        super().__init__("points", "points.shortfall",
                         f"the report needs {needed} points; the balance on {on} holds "
                         f"{balance}: {needed - balance} short")
        self.needed, self.balance, self.short = needed, balance, needed - balance


class KentaikyoAccount(LedgerAggregate):
    """One contracting employer's points (1 point = 1 yen)."""

    @staticmethod
    def create_id(business_id: str, **_: Any) -> UUID:
        return account_aggregate_id(business_id)

    @classmethod
    def open(cls, business_id: str, actor: Actor) -> KentaikyoAccount:
        account: KentaikyoAccount = cls(business_id=BusinessId(business_id), actor=actor)
        return account

    @event("Opened")
    def __init__(self, business_id: str, actor: Actor) -> None:
        self.business_id = business_id
        self.entries: list[tuple[date, int]] = []  # (date, +bought/credited or −used)
        self.purchases: dict[str, tuple[date, int, bool]] = {}
        self.uses: set[str] = set()
        self.credited: dict[str, int] = {}  # campaign → points credited
        self.credited_purchases: set[tuple[str, str]] = set()
        self.wage_payments: dict[str, date] = {}

    def balance_on(self, day: date) -> int:
        return sum(points for on, points in self.entries if on <= day)

    # 購入 -------------------------------------------------------------------------------------
    def purchase(self, purchase_id: str, purchased_on: date, points: int, ccus_linked: bool,
                 actor: Actor) -> None:
        purchase_id = require_text(purchase_id, "purchase_id", max_length=80)
        if purchase_id in self.purchases:
            raise InvalidState("purchase_id", "purchase.once", "is recorded already")
        self._purchased(purchase_id, require_date(purchased_on, "purchased_on"),
                        require_points(points), bool(ccus_linked), actor)

    @event("PointsPurchased")
    def _purchased(self, purchase_id: str, purchased_on: date, points: int, ccus_linked: bool,
                   actor: Actor) -> None:
        self.purchases[purchase_id] = (purchased_on, points, ccus_linked)
        self.entries.append((purchased_on, points))

    # 充当: an applied report uses points --------------------------------------------------
    def use(self, reference: str, used_on: date, points: int, actor: Actor,
            days: tuple[ReportedDay, ...] = ()) -> None:
        """Apply `points` for a report (`reference`: its month, or a later adjustment's name).
        Refused whole when the balance on `used_on` holds fewer (PointsShortfall); a balance
        of exactly the points needed is enough and leaves zero. `days`: the worker-days the
        report paid for, as reported (what coverage reconciliation compares the records with)."""
        reference = require_text(reference, "reference", max_length=80)
        reported = [_reported_day(day) for day in days]
        if len(set(reported)) != len(reported):
            raise InvalidValue("days", "days.unique", "a report lists a worker-day once")
        if reference in self.uses:
            raise InvalidState("reference", "use.once", "is applied already")
        require_date(used_on, "used_on")
        require_points(points)
        balance = self.balance_on(used_on)
        # Later uses are dated too: a use never leaves any later day's balance below zero.
        lowest = min([balance] + [self.balance_on(on) for on, p in self.entries
                                  if on > used_on and p < 0])
        if points > lowest:
            raise PointsShortfall(points, lowest, used_on)
        self._used(reference, used_on, points, [list(day) for day in reported], actor)

    @event("PointsUsed")
    def _used(self, reference: str, used_on: date, points: int, days: list[list[str]],
              actor: Actor) -> None:
        self.uses.add(reference)
        self.entries.append((used_on, -points))

    # 還元キャンペーン ---------------------------------------------------------------------------
    def rebates_due(self, credited_on: date,
                    campaigns: tuple[RebateCampaign, ...] = CAMPAIGNS,
                    ) -> list[tuple[str, str, int]]:
        """(campaign, purchase, points) not credited yet and creditable on `credited_on`, each
        within what is left of the campaign's cap, purchases in date order (ID on a tie)."""
        due = []
        for campaign in campaigns:
            if credited_on < campaign.credited_from:
                continue
            left = campaign.cap_points - self.credited.get(campaign.campaign_id, 0)
            for purchase_id, (on, points, linked) in sorted(
                    self.purchases.items(), key=lambda item: (item[1][0], item[0])):
                if not campaign.covers(on) or (campaign.campaign_id,
                                               purchase_id) in self.credited_purchases:
                    continue
                rebate = min(campaign.rebate(points, linked), left)
                if rebate > 0:
                    due.append((campaign.campaign_id, purchase_id, rebate))
                    left -= rebate
        return due

    def credit_rebates(self, credited_on: date, actor: Actor,
                       campaigns: tuple[RebateCampaign, ...] = CAMPAIGNS) -> int:
        require_date(credited_on, "credited_on")
        due = self.rebates_due(credited_on, campaigns)
        for campaign_id, purchase_id, points in due:
            self._rebate_credited(campaign_id, purchase_id, points, credited_on, actor)
        return len(due)

    @event("RebateCredited")
    def _rebate_credited(self, campaign_id: str, purchase_id: str, points: int,
                         credited_on: date, actor: Actor) -> None:
        self.credited[campaign_id] = self.credited.get(campaign_id, 0) + points
        self.credited_purchases.add((campaign_id, purchase_id))
        self.entries.append((credited_on, points))

    # 賃金支払日 ---------------------------------------------------------------------------------
    def set_wage_payment_date(self, month: str, paid_on: date, actor: Actor) -> None:
        first = parse_month(month)
        require_date(paid_on, "paid_on")
        if paid_on < first:
            raise InvalidValue("paid_on", "paid_on.range", "is before the work month starts")
        self._wage_payment_set(month_of(first), paid_on, actor)

    @event("WagePaymentDateSet")
    def _wage_payment_set(self, month: str, paid_on: date, actor: Actor) -> None:
        self.wage_payments[month] = paid_on

    def report_due_on(self, month: str) -> date:
        return report_due_on(self.wage_payments.get(month) or default_wage_payment(month))
