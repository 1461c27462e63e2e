"""One rule for stored text (no control characters; tab and line breaks in free text only) and
one range for stored dates, applied by every command, so the read side can hold what it gets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from api.cli.common import parse_actor
from ledger.actors import Role
from ledger.clock import EARLIEST_MOMENT, JST, LATEST_MOMENT, projectable
from ledger.domain.business import Business
from ledger.domain.registry import Card, Reader
from ledger.domain.requests import Correction, ManualEntry
from ledger.domain.site import Site
from ledger.domain.text import check_text
from ledger.domain.worker import CertificateClaim, CertifierRelation, Worker
from ledger.errors import InvalidValue
from ledger.storage.keys import check_subject
from tests.unit.world import (
    ADMIN,
    PRIME,
    PRIME_STAFF,
    SITE,
    SUB,
    TECHNICIAN,
    WORKER_SELF,
    a_site,
    a_worker,
)

SOON = datetime(2025, 6, 3, 9, 0, tzinfo=JST)
WORK_DATE = date(2025, 6, 2)
POISON = {
    "NUL": "\x00",
    "ESC": "\x1b",
    "BEL": "\x07",
    "DEL": "\x7f",
    "C1 NEL": "\x85",
    "C1 CSI": "\x9b",
    "lone surrogate": "\ud800",
}
LAYOUT = {"tab": "\t", "line feed": "\n", "carriage return": "\r"}


def entry(**change: Any) -> ManualEntry:
    values: dict[str, Any] = {
        "worker": a_worker(), "site": a_site(), "work_date": WORK_DATE,
        "employer_business_id": SUB, "trade": "鉄筋", "position": "一般",
        "work_content": "配筋", "entry_at": None, "exit_at": None, "note": "",
        "actor": WORKER_SELF, "now": SOON,
    } | change
    return ManualEntry.request(**values)


def worker_with_qualification() -> Worker:
    worker = a_worker(employed_since=date(2019, 5, 1))  # the certified period is employed
    worker.add_qualification("玉掛技能講習", date(2019, 5, 1), ADMIN)
    return worker


# Each command that stores text, with the field the text goes to.
COMMANDS: dict[str, tuple[str, Callable[[str], object]]] = {
    "business name": ("name", lambda text: Business.register("100", text, ADMIN)),
    "worker name": ("name", lambda text: Worker.register(TECHNICIAN, text, ADMIN)),
    "site name": ("name", lambda text: Site.open(SITE, text, PRIME, "electronic",
                                                 date(2025, 1, 6), ADMIN)),
    "roster trade": ("trade", lambda text: a_site().set_roster_entry(
        TECHNICIAN, PRIME, text, "一般", date(2025, 1, 6), PRIME_STAFF)),
    "qualification": ("qualification", lambda text: a_worker().add_qualification(
        text, date(2019, 5, 1), ADMIN)),
    "reader retirement reason": ("reason", lambda text: Reader.register(
        "GATE-1", SITE, "auto", ADMIN).retire(text, ADMIN)),
    "card revocation reason": ("reason", lambda text: Card.issue(
        "04A1B2C3", TECHNICIAN, ADMIN).revoke(text, ADMIN)),
    "entry trade": ("trade", lambda text: entry(trade=text)),
    "entry work content": ("work_content", lambda text: entry(work_content=text)),
    "entry note": ("note", lambda text: entry(note=text)),
    "rejection reason": ("reason", lambda text: entry().reject(text, PRIME_STAFF, SOON)),
    "correction reason": ("reason", lambda text: Correction.request(
        a_worker(), a_site(), WORK_DATE, SUB, {"position": "班長"}, text, WORKER_SELF, SOON)),
    "correction trade": ("trade", lambda text: Correction.request(
        a_worker(), a_site(), WORK_DATE, SUB, {"trade": text}, "was 型枠", WORKER_SELF, SOON)),
    "key name": ("name", lambda text: check_subject(Role.AUDITOR, text)),
    "acting party (--as)": ("--as", lambda text: parse_actor(f"admin:{text}")),
}
COMMANDS["certificate trade"] = ("trade", lambda text: worker_with_qualification().certify_career(
    CertificateClaim(SUB, CertifierRelation.EMPLOYER, text, date(2019, 5, 1), date(2020, 1, 1), 10),
    date(2025, 1, 1), ADMIN))
FREE_TEXT = {"reason", "note", "work_content"}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("poison", POISON)
def test_a_control_character_is_refused_naming_the_field(command: str, poison: str) -> None:
    field, run = COMMANDS[command]
    with pytest.raises(InvalidValue) as refused:
        run(f"鉄{POISON[poison]}筋")
    assert (refused.value.field, refused.value.rule) == (field, "text.control_character")
    assert f"U+{ord(POISON[poison]):04X}" in refused.value.message


@pytest.mark.parametrize("command", COMMANDS)
def test_ordinary_japanese_text_is_accepted(command: str) -> None:
    _, run = COMMANDS[command]
    run("山田　太郎 (鉄筋・型枠) 👷‍♂️")  # full-width space, a joiner: ordinary input


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("layout", LAYOUT)
def test_tab_and_line_breaks_only_in_free_text(command: str, layout: str) -> None:
    field, run = COMMANDS[command]
    text = f"配筋{LAYOUT[layout]}型枠"
    if field in FREE_TEXT:
        run(text)
    else:
        with pytest.raises(InvalidValue, match="control character"):
            run(text)


def test_the_rule_names_the_offset() -> None:
    with pytest.raises(InvalidValue, match="U\\+0000 at offset 2"):
        check_text("鈴木\x00建設", "name")


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1899, 12, 31), date(2200, 1, 1),
                                 date(9999, 12, 31)])
def test_dates_a_command_stores_stay_within_the_ledgers_range(day: date) -> None:
    for run, field in (
        (lambda: a_worker().join_employer("300", day, False, ADMIN), "since"),
        (lambda: a_worker().enroll_in_kentaikyo("123", day, ADMIN), "since"),
        (lambda: a_worker().add_qualification("玉掛技能講習", day, ADMIN), "acquired_on"),
        (lambda: a_worker().complete_foreman_training(day, ADMIN), "completed_on"),
        (lambda: Site.open(SITE, "現場", PRIME, "electronic", day, ADMIN), "opened_on"),
        (lambda: a_site().set_roster_entry(TECHNICIAN, SUB, "鉄筋", "一般", day, PRIME_STAFF),
         "since"),
    ):
        with pytest.raises(InvalidValue) as refused:
            run()
        assert refused.value.rule.endswith(".range"), refused.value
        assert refused.value.field == field


def test_the_range_bounds_are_accepted() -> None:
    a_worker().join_employer("300", date(1900, 1, 1), False, ADMIN)
    a_worker().join_employer("300", date(2199, 12, 31), False, ADMIN)


def test_a_manual_entrys_exit_far_from_the_ledgers_range_is_refused() -> None:
    with pytest.raises(InvalidValue) as refused:
        entry(exit_at=datetime(9999, 12, 31, tzinfo=JST))
    assert (refused.value.field, refused.value.rule) == ("exit_at", "exit_at.range")


@pytest.mark.parametrize("moment", [
    datetime(1, 1, 1, tzinfo=JST), datetime(9999, 12, 31, 23, 59, tzinfo=JST),
    datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12))),
    datetime(1, 1, 1, 12, tzinfo=timezone(timedelta(hours=12))),
])
def test_a_reader_clock_out_of_range_is_read_at_the_nearest_bound_and_can_be_worked_with(
    moment: datetime,
) -> None:
    projected = projectable(moment)
    assert projected in (EARLIEST_MOMENT, LATEST_MOMENT - timedelta(microseconds=1))
    assert date(1900, 1, 1) <= projected.astimezone(JST).date() <= date(2199, 12, 31)
    # what the projection does with a reader's time: JST days, windows of days either side
    day = projected.astimezone(JST).date()
    assert day - timedelta(days=7) < day + timedelta(days=7)
    assert projectable(datetime(1970, 1, 1, tzinfo=JST)) == datetime(1970, 1, 1, tzinfo=JST)
