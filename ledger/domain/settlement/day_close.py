"""日締め: a site-day closed, listing what was still open or unresolved when it was over."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import event

from ledger.actors import Actor
from ledger.domain.base import LedgerAggregate, require_date
from ledger.domain.settlement.rules import (
    check_day_over,
    check_job_actor,
)
from ledger.ids import SiteId, aggregate_id


# -- 日締め: day close ----------------------------------------------------------------------------
def day_close_id(site_id: str, work_date: date) -> UUID:
    return aggregate_id("day-close", f"{site_id}:{work_date.isoformat()}")


class DayClose(LedgerAggregate):
    """One site-day, closed: what was still open or unresolved when the day was over.

    It lists and never changes anything: taps and records stay as they are, so an exit tap that
    arrives after the close still closes its record; the listing is what staff saw at 02:00.
    """

    @staticmethod
    def create_id(site_id: str, work_date: date, **_: Any) -> UUID:
        return day_close_id(site_id, work_date)

    @classmethod
    def close(
        cls,
        site_id: str,
        work_date: date,
        missing_exits: list[dict[str, Any]],
        unknown_card_taps: list[dict[str, Any]],
        silent_readers: list[str],
        as_of_position: int,
        actor: Actor,
        now: datetime,
    ) -> DayClose:
        check_job_actor(actor)
        check_day_over(require_date(work_date, "work_date"), now)
        return cast(DayClose, cls(  # the library's decorated __init__ is untyped
            site_id=SiteId(site_id), work_date=work_date, missing_exits=missing_exits,
            unknown_card_taps=unknown_card_taps, silent_readers=sorted(silent_readers),
            as_of_position=as_of_position, actor=actor, closed_at=now,
        ))

    @event("Closed")
    def __init__(
        self,
        site_id: str,
        work_date: date,
        missing_exits: list[dict[str, Any]],
        unknown_card_taps: list[dict[str, Any]],
        silent_readers: list[str],
        as_of_position: int,  # read-model position the lists were taken at
        actor: Actor,
        closed_at: datetime,
    ) -> None:
        self.site_id = site_id
        self.work_date = work_date
        self.missing_exits = missing_exits
        self.unknown_card_taps = unknown_card_taps
        self.silent_readers = silent_readers

    @property
    def findings(self) -> int:
        return len(self.missing_exits) + len(self.unknown_card_taps) + len(self.silent_readers)
