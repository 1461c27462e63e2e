"""The settlement aggregates without storage: their rules, and what their events hold."""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.actors import SYSTEM, Actor, Role
from ledger.clock import JST
from ledger.domain.settlement import (
    GENESIS_HASH,
    Adjustment,
    DailySeal,
    DayClose,
    DayKey,
    DayValue,
    KentaikyoSettlement,
    LineSet,
    SealHead,
    SettlementTally,
    SiteFeeAccount,
    add_months,
    day_close_id,
    diff_days,
    diff_streams,
    digest_prefix_lines,
    event_digest,
    issued_state,
    issued_stream,
    line_order,
    line_set_of,
    months_between,
    parse_month,
    seal_hash,
)
from ledger.errors import InvalidState, InvalidValue, NotPermitted

SITE, PRIME = "10000000000001", "100"
SHA = "a" * 64


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
        second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=JST)


# -- months ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("month", "count", "expected"), [
    ("2025-06", -1, "2025-05"), ("2025-01", -1, "2024-12"), ("2024-12", 1, "2025-01"),
    ("2025-11", 3, "2026-02"), ("2024-02", 12, "2025-02"), ("2025-03", -27, "2022-12"),
])
def test_months_add_across_year_ends(month: str, count: int, expected: str) -> None:
    assert add_months(month, count) == expected
    assert months_between(month, expected) == count


@pytest.mark.parametrize("text", ["2025-13", "2025-6", "25-06", "2025-06-01", None, 202506])
def test_a_malformed_month_is_refused_naming_the_field(text: object) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_month(text)
    assert (refused.value.field, refused.value.rule) == ("month", "month.format")


# -- day close ---------------------------------------------------------------------------------
def test_a_day_closes_only_once_it_has_ended_in_japan() -> None:
    day = date(2024, 2, 29)  # leap day
    with pytest.raises(InvalidState) as refused:
        DayClose.close(SITE, day, [], [], [], 10, SYSTEM, jst(2024, 2, 29, 23, 59, 59))
    assert refused.value.rule == "work_date.not_over"
    closed = DayClose.close(SITE, day, [{"technician_id": "1" * 14}], [], ["GATE-2", "GATE-1"],
                            10, SYSTEM, jst(2024, 3, 1, 0, 0))
    assert closed.id == day_close_id(SITE, day)
    assert closed.silent_readers == ["GATE-1", "GATE-2"] and closed.findings == 3
    (created,) = map(vars, closed.collect_events())
    assert created["actor"] == SYSTEM
    assert created["closed_at"] == jst(2024, 3, 1)
    assert created["work_date"] == day


def test_the_same_site_day_always_gets_the_same_id_and_others_do_not() -> None:
    assert day_close_id(SITE, date(2025, 6, 19)) == day_close_id(SITE, date(2025, 6, 19))
    assert day_close_id(SITE, date(2025, 6, 19)) != day_close_id(SITE, date(2025, 6, 20))
    assert day_close_id(SITE, date(2025, 6, 19)) != day_close_id("10000000000002",
                                                                 date(2025, 6, 19))


@pytest.mark.parametrize("role", [Role.PRIME_CONTRACTOR, Role.EMPLOYER, Role.WORKER,
                                  Role.READER, Role.AUDITOR])
def test_only_the_system_or_an_admin_runs_jobs(role: Role) -> None:
    with pytest.raises(NotPermitted) as refused:
        DayClose.close(SITE, date(2025, 6, 19), [], [], [], 0, Actor(role, "x"),
                       jst(2025, 6, 20, 2))
    assert (refused.value.field, refused.value.rule) == ("actor", "job.actor")


# -- Kentaikyo settlement ----------------------------------------------------------------------
LINES: dict[str, list[list[Any]]] = {}  # the lines beside the log, by SHA-256
NO_LINES = line_set_of([])


def lines(items: list[list[Any]]) -> LineSet:
    line_set = line_set_of(items)
    LINES[line_set.sha256] = items
    return line_set


def issue(month: str, days: list[list[Any]], adjustments: tuple[Adjustment, ...] = (),
          now: datetime | None = None) -> KentaikyoSettlement:
    tally = SettlementTally(month)
    day_lines = lines([tally.day(line) for line in days])
    adjustment_lines = lines([tally.adjustment(a) for a in adjustments])
    return KentaikyoSettlement.issue(tally, day_lines, adjustment_lines, NO_LINES,
                                     {"report.csv": SHA}, 99, SYSTEM, now or jst(2025, 7, 10, 4))


def test_a_settlement_holds_its_lines_totals_and_file_hashes() -> None:
    settled = issue("2025-06", [["1" * 14, "200", SITE, "2025-06-02", 320, "eligible"],
                                ["1" * 14, "200", SITE, "2025-06-03", 0, "not_enrolled"]])
    (issued,) = map(vars, settled.collect_events())
    assert settled.points_yen == 320 and settled.files == {"report.csv": SHA}
    assert issued["period_start"] == date(2025, 6, 1)
    assert issued["period_end"] == date(2025, 6, 30)
    assert issued["issued_at"] == jst(2025, 7, 10, 4)


def test_a_month_is_settled_only_after_it_ends_and_with_real_hashes() -> None:
    with pytest.raises(InvalidState) as early:
        issue("2024-02", [], now=jst(2024, 2, 29, 23, 59))
    assert early.value.rule == "month.not_over"
    issue("2024-02", [], now=jst(2024, 3, 1))
    with pytest.raises(InvalidValue) as bad:
        KentaikyoSettlement.issue(SettlementTally("2025-06"), NO_LINES, NO_LINES, NO_LINES,
                                  {"f.csv": "abc"}, 0, SYSTEM, jst(2025, 7, 1))
    assert bad.value.rule == "files.sha256"


def test_adjustments_may_only_concern_earlier_months() -> None:
    later = Adjustment("2025-07", ("1" * 14, "200", SITE, "2025-07-01"), None, (320, "eligible"))
    with pytest.raises(InvalidValue) as refused:
        issue("2025-06", [], (later,))
    assert refused.value.rule == "adjustments.earlier_month"


def test_the_diff_finds_new_changed_and_vanished_lines_only() -> None:
    key = ("1" * 14, "200", SITE)
    issued: dict[DayKey, DayValue] = {
        (*key, "2025-06-02"): (320, "eligible"), (*key, "2025-06-03"): (320, "eligible"),
        (*key, "2025-06-04"): (0, "not_enrolled")}
    current: dict[DayKey, DayValue] = {
        (*key, "2025-06-02"): (320, "eligible"), (*key, "2025-06-03"): (0, "covered:X"),
        (*key, "2025-06-05"): (320, "eligible")}
    changes = diff_days("2025-06", issued, current)
    assert [(a.key[3], a.before, a.after, a.points_delta) for a in changes] == [
        ("2025-06-03", (320, "eligible"), (0, "covered:X"), -320),
        ("2025-06-04", (0, "not_enrolled"), None, 0),
        ("2025-06-05", None, (320, "eligible"), 320),
    ]
    assert all(Adjustment.from_row(a.as_row()) == a for a in changes)


def test_what_was_issued_for_a_month_includes_later_adjustments_in_order() -> None:
    key = ("1" * 14, "200", SITE, "2025-06-02")
    june = issue("2025-06", [[*key, 320, "eligible"]])
    july = issue("2025-07", [], (Adjustment("2025-06", key, (320, "eligible"), None),),
                 now=jst(2025, 8, 10))
    new_key = (*key[:3], "2025-06-09")
    august = issue("2025-08", [], (Adjustment("2025-06", new_key, None, (320, "eligible")),),
                   now=jst(2025, 9, 10))
    def state(original: KentaikyoSettlement,
              later: list[KentaikyoSettlement]) -> dict[DayKey, DayValue]:
        return issued_state(original.month, LINES[original.day_lines.sha256],
                            [(s.month, LINES[s.adjustment_lines.sha256]) for s in later])

    assert state(june, [august, july]) == {new_key: (320, "eligible")}
    assert state(june, []) == {key: (320, "eligible")}


# -- site usage fee ----------------------------------------------------------------------------
def account() -> SiteFeeAccount:
    return SiteFeeAccount.open(PRIME, "2024-10", SYSTEM, jst(2024, 11, 10))


def billed(acc: SiteFeeAccount, month: str, usage: dict[tuple[str, str], int]) -> dict[str, Any]:
    """The MonthBilled event of billing `month` on the 10th of the next month."""
    first = parse_month(add_months(month, 1))
    acc.bill_month(month, usage, SYSTEM, datetime(first.year, first.month, 10, tzinfo=JST))
    return dict(vars(acc.collect_events()[-1]))


def bill(acc: SiteFeeAccount, month: str, usage: dict[tuple[str, str], int]) -> list[object]:
    last = billed(acc, month, usage)
    return [last[key] for key in ("usage_yen", "carried_in_yen", "billed_yen", "carried_out_yen",
                                  "outcome")]


@pytest.mark.parametrize(("records", "expected"), [
    (999, [9_990, 0, 0, 9_990, "carried_over"]),
    (1_000, [10_000, 0, 10_000, 0, "billed"]),
])
def test_a_bill_under_ten_thousand_yen_is_carried_over(
    records: int, expected: list[object]
) -> None:
    assert bill(account(), "2025-01", {(SITE, "2025-01"): records}) == expected


def test_a_carried_amount_is_billed_with_its_sixth_month_of_usage_at_the_latest() -> None:
    acc = account()
    outcomes = [bill(acc, "2024-10", {(SITE, "2024-10"): 5})]  # October: 50 yen
    for month in ("2024-11", "2024-12", "2025-01", "2025-02", "2025-03"):
        # October's records stay in the usage while late changes to October are looked for
        in_window = months_between("2024-10", month) <= 2
        outcomes.append(bill(acc, month, {(SITE, "2024-10"): 5} if in_window else {}))
    assert outcomes == [
        [50, 0, 0, 50, "carried_over"], [0, 50, 0, 50, "carried_over"],
        [0, 50, 0, 50, "carried_over"], [0, 50, 0, 50, "carried_over"],
        [0, 50, 0, 50, "carried_over"],
        [0, 50, 50, 0, "billed"],  # October … March: six months of usage in one bill
    ]


def test_reaching_ten_thousand_yen_bills_the_carry_with_it() -> None:
    acc = account()
    bill(acc, "2025-01", {(SITE, "2025-01"): 400})
    assert bill(acc, "2025-02", {(SITE, "2025-01"): 400, (SITE, "2025-02"): 600}) == [
        6_000, 4_000, 10_000, 0, "billed"]


def test_late_records_are_billed_once_and_a_record_that_stops_counting_is_credited() -> None:
    acc = account()
    bill(acc, "2025-01", {(SITE, "2025-01"): 1000})
    last = billed(acc, "2025-02", {(SITE, "2025-01"): 1003, (SITE, "2025-02"): 1000})
    assert last["lines"] == [[SITE, "2025-01", 3, 30], [SITE, "2025-02", 1000, 10_000]]
    assert bill(acc, "2025-03", {(SITE, "2025-01"): 1002, (SITE, "2025-02"): 1000}) == [
        -10, 0, 0, -10, "carried_over"]


def test_a_month_is_billed_once_and_in_order() -> None:
    acc = account()
    bill(acc, "2025-02", {(SITE, "2025-02"): 1})
    with pytest.raises(InvalidState) as refused:
        bill(acc, "2025-01", {(SITE, "2025-01"): 1})
    assert refused.value.rule == "site_fee.billed"
    with pytest.raises(InvalidValue) as too_old:
        bill(acc, "2025-06", {(SITE, "2025-01"): 1})
    assert too_old.value.rule == "usage.month"


# -- daily seal --------------------------------------------------------------------------------
def test_an_event_digest_depends_on_every_stored_part() -> None:
    from uuid import UUID

    a = UUID(int=1)
    base = event_digest(a, 1, "t:T.E", b"{}")
    assert base == event_digest(UUID(str(a)), 1, "t:T.E", b"{}")
    assert len({base, event_digest(UUID(int=2), 1, "t:T.E", b"{}"),
                event_digest(a, 2, "t:T.E", b"{}"), event_digest(a, 1, "t:T.F", b"{}"),
                event_digest(a, 1, "t:T.E", b"{ }"), event_digest(a, 1, "t:T.E{", b"}")}) == 6


def test_seals_chain_from_the_genesis_and_refuse_gaps() -> None:
    now = jst(2025, 6, 20, 3)
    first = DailySeal.seal(date(2025, 6, 18), None, 10, 10, SHA, NO_LINES, SYSTEM, now)
    assert first.previous_hash == GENESIS_HASH and first.first_position == 0
    assert first.seal_hash == seal_hash(GENESIS_HASH, date(2025, 6, 18), 0, 10, 10, SHA)
    second = DailySeal.seal(date(2025, 6, 19), first.head, 12, 2, SHA, NO_LINES, SYSTEM, now)
    assert second.previous_hash == first.seal_hash and second.first_position == 10
    assert second.seal_hash != first.seal_hash
    with pytest.raises(InvalidState) as gap:
        DailySeal.seal(date(2025, 6, 21), second.head, 12, 0, SHA, NO_LINES, SYSTEM,
                       jst(2025, 6, 22, 3))
    assert gap.value.rule == "seal.chain"
    with pytest.raises(InvalidValue) as impossible:
        DailySeal.seal(date(2025, 6, 20), SealHead(date(2025, 6, 19), 12, SHA), 13, 2, SHA,
                       NO_LINES, SYSTEM, jst(2025, 6, 21))
    assert impossible.value.rule == "seal.range"
    with pytest.raises(InvalidState):
        DailySeal.seal(date(2025, 6, 20), second.head, 12, 0, SHA, NO_LINES, SYSTEM,
                       jst(2025, 6, 20, 23) + timedelta(minutes=59))


# -- the same rules over streams (a month is never held) -------------------------------------
_keys = st.tuples(st.sampled_from(["1" * 14, "2" * 14]), st.sampled_from(["200", None]),
                  st.sampled_from([SITE, "10000000000002"]),
                  st.sampled_from(["2025-06-02", "2025-06-03", "2025-06-04"]))
_values = st.tuples(st.sampled_from([0, 320]), st.sampled_from(["eligible", "not_enrolled"]))
_months = st.dictionaries(_keys, _values, max_size=12)


def _in_order(lines: dict[DayKey, DayValue]) -> list[tuple[DayKey, DayValue]]:
    return sorted(lines.items(), key=lambda item: line_order(item[0]))


@given(_months, _months)
def test_the_streamed_diff_finds_what_the_diff_of_whole_months_finds(
    issued: dict[DayKey, DayValue], current: dict[DayKey, DayValue]
) -> None:
    assert list(diff_streams("2025-06", _in_order(issued), _in_order(current))) == diff_days(
        "2025-06", issued, current)


@given(_months, st.lists(st.tuples(st.sampled_from(["2025-07", "2025-08"]), _months, _months),
                         max_size=2, unique_by=lambda later: later[0]))
def test_the_streamed_issued_state_is_the_issued_state(
    issued: dict[DayKey, DayValue],
    later: list[tuple[str, dict[DayKey, DayValue], dict[DayKey, DayValue]]],
) -> None:
    days = [[*key, *value] for key, value in _in_order(issued)]
    adjusted = [(month, [a.as_row() for a in diff_days("2025-06", before, after)])
                for month, before, after in later]
    assert list(issued_stream("2025-06", days, adjusted)) == _in_order(
        issued_state("2025-06", days, adjusted))


def test_version_1_states_upcast_to_line_set_names_and_new_shapes_stay_as_they_are() -> None:
    """Events written in the new shape before it had a version number carry no class_version
    either: the upcast tells them by their shape and leaves them alone."""
    days = [["T2", "200", "S1", "2024-11-05", 320, "eligible"],
            ["T1", None, "S1", "2024-11-06", 0, "not_member"]]
    parties = {"sites": {"S1": "100"}, "members": {"T2": "M-2"}, "contracts": {}}
    old: dict[str, Any] = {"days": days, "adjustments": [], "parties": parties}
    KentaikyoSettlement.Issued.upcast_v1_v2(old)
    assert old == {"days": line_set_of(sorted(days)).as_dict(),
                   "adjustments": line_set_of([]).as_dict(),
                   "parties": line_set_of([["sites", "S1", "100"],
                                           ["members", "T2", "M-2"]]).as_dict()}
    again = dict(old)
    KentaikyoSettlement.Issued.upcast_v1_v2(again)
    assert again == old

    prefixes = bytes(range(256)) * 20  # 1,280 events: two lines
    seal: dict[str, Any] = {"event_digests": base64.b64encode(prefixes).decode()}
    DailySeal.Sealed.upcast_v1_v2(seal)
    expected = line_set_of(digest_prefix_lines(prefixes))
    assert seal == {"event_digests": expected.as_dict()} and expected.count == 2
    DailySeal.Sealed.upcast_v1_v2(seal)
    assert seal == {"event_digests": expected.as_dict()}
