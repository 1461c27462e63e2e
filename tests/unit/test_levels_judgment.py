"""How the judge reads its inputs, whatever the trade: 経歴証明 days, dates, cumulative levels, the
next-level report, and every route of every file at its exact thresholds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from projections.levels import (
    CareerCertificate,
    HeldQualification,
    JudgmentInputs,
    TradeCriteria,
    judge,
    known_trades,
    load_criteria,
)
from projections.levels.criteria import Route
from projections.levels.gaps import assess

TEKKIN_L3 = (HeldQualification("玉掛技能講習"), HeldQualification("一級鉄筋施工技能士"))


def tekkin(work_days: int, **fields: object) -> JudgmentInputs:
    return JudgmentInputs(trade="tekkin", work_days=work_days, trade_work_days=work_days,
                          **fields)  # type: ignore[arg-type]


class TestCareerCertificates:
    def test_certified_work_days_add_to_ccus_work_days(self) -> None:
        inputs = tekkin(400, qualifications=TEKKIN_L3[:1],
                        certificates=(CareerCertificate(work_days=200),
                                      CareerCertificate(work_days=45)))
        judgment = judge(inputs, load_criteria("tekkin"))
        assert (judgment.level, judgment.counted.work_days) == (2, 645)

    def test_one_certified_day_short_is_not_enough(self) -> None:
        inputs = tekkin(400, qualifications=TEKKIN_L3[:1],
                        certificates=(CareerCertificate(work_days=244),))
        judgment = judge(inputs, load_criteria("tekkin"))
        assert judgment.missing == ("needs 645 work days (has 644)",)

    def test_certified_foreman_and_team_leader_days_add_up(self) -> None:
        inputs = tekkin(1505, qualifications=TEKKIN_L3, foreman_days=100, team_leader_days=200,
                        certificates=(CareerCertificate(1000, foreman_days=300,
                                                        team_leader_days=45),))
        judgment = judge(inputs, load_criteria("tekkin"))
        assert judgment.level == 3
        assert (judgment.counted.foreman_days,
                judgment.counted.foreman_or_team_leader_days) == (400, 645)

    def test_certified_班長_days_never_count_as_職長_days(self) -> None:
        quals = (*TEKKIN_L3, HeldQualification("登録鉄筋基幹技能者"))
        inputs = tekkin(2150, qualifications=quals, foreman_days=600,
                        certificates=(CareerCertificate(0, team_leader_days=500),))
        judgment = judge(inputs, load_criteria("tekkin"))
        assert (judgment.level, judgment.missing) == (3, ("needs 45 more 職長 days",))


class TestDatesAndNames:
    def test_a_qualification_acquired_after_as_of_does_not_count(self) -> None:
        late = (HeldQualification("玉掛技能講習", date(2025, 5, 1)),)
        criteria = load_criteria("tekkin")
        assert judge(tekkin(700, qualifications=late, as_of=date(2025, 4, 30)), criteria).level == 1
        assert judge(tekkin(700, qualifications=late, as_of=date(2025, 5, 1)), criteria).level == 2

    def test_foreman_training_completed_after_as_of_does_not_count(self) -> None:
        inputs = JudgmentInputs(
            trade="硝子工事", work_days=1075, trade_work_days=1075, foreman_days=645,
            qualifications=(HeldQualification("一級ガラス施工技能士"),),
            foreman_training_on=date(2024, 6, 1), as_of=date(2024, 5, 31),
        )
        judgment = judge(inputs, load_criteria("garasu"))
        assert judgment.missing == ("needs 職長・安全衛生責任者教育",)

    def test_full_width_and_spaced_spellings_match(self) -> None:
        quals = (HeldQualification("玉掛け技能講習"), HeldQualification("１級 鉄筋施工技能士"))
        judgment = judge(tekkin(1505, qualifications=quals, foreman_days=645),
                         load_criteria("tekkin"))
        assert judgment.level == 3

    def test_unrecognised_qualifications_are_reported_not_guessed(self) -> None:
        quals = (HeldQualification("玉掛技能講習"), HeldQualification("鉄筋名人"))
        judgment = judge(tekkin(645, qualifications=quals), load_criteria("tekkin"))
        assert (judgment.level, judgment.unrecognised_qualifications) == (2, ("鉄筋名人",))


class TestLevels:
    def test_everyone_registered_is_level_1_white(self) -> None:
        judgment = judge(tekkin(0), load_criteria("tekkin"))
        assert (judgment.level, judgment.card_colour.value, judgment.reached_route) == (
            1, "white", None)
        assert judgment.card_colour.japanese == "ホワイト"
        assert judgment.next_level == 2

    def test_a_higher_level_needs_the_lower_levels_qualifications(self) -> None:
        # Meets every レベル3 figure but lacks レベル2's 玉掛技能講習.
        inputs = tekkin(1505, qualifications=TEKKIN_L3[1:], foreman_days=645)
        judgment = judge(inputs, load_criteria("tekkin"))
        assert (judgment.level, judgment.next_level, judgment.missing) == (
            1, 2, ("needs 玉掛技能講習",))

    def test_level_4_has_no_next_level_gaps(self) -> None:
        quals = (*TEKKIN_L3, HeldQualification("登録鉄筋基幹技能者"))
        judgment = judge(tekkin(3000, qualifications=quals, foreman_days=900),
                         load_criteria("tekkin"))
        assert (judgment.level, judgment.card_colour.japanese) == (4, "ゴールド")
        assert (judgment.next_level, judgment.next_route) == (None, None)
        assert (judgment.gaps, judgment.routes, judgment.missing) == ((), (), ())

    def test_several_gaps_are_listed_in_order(self) -> None:
        judgment = judge(tekkin(1000, qualifications=TEKKIN_L3[:1], foreman_days=622),
                         load_criteria("tekkin"))
        assert judgment.level == 2
        assert judgment.missing == (
            "needs 1505 work days (has 1000)",
            "needs 23 more 職長 or 班長 days",
            "needs 一級鉄筋施工技能士",
        )
        assert [(gap.kind.value, gap.missing) for gap in judgment.gaps] == [
            ("work_days", 505), ("foreman_or_team_leader_days", 23), ("qualification", 1)]
        assert (judgment.routes[0].missing_items, judgment.routes[0].missing_days) == (3, 528)

    def test_inputs_for_another_trade_are_refused(self) -> None:
        with pytest.raises(ValueError, match="'tekkin'"):
            judge(JudgmentInputs(trade="とび", work_days=1, trade_work_days=1),
                  load_criteria("tekkin"))

    @pytest.mark.parametrize("field", ["work_days", "foreman_days", "team_leader_days"])
    def test_negative_days_are_refused(self, field: str) -> None:
        figures = {"work_days": 10, "trade_work_days": 10, field: -1}
        with pytest.raises(ValueError, match=field):
            JudgmentInputs(trade="tekkin", **figures)  # type: ignore[arg-type]

    def test_more_trade_days_than_days_in_all_trades_is_refused(self) -> None:
        with pytest.raises(ValueError, match="trade_work_days"):
            JudgmentInputs(trade="tekkin", work_days=10, trade_work_days=11)


def _every_route() -> list[tuple[str, int, int]]:
    return [
        (slug, level.level, index)
        for slug in known_trades()
        for level in load_criteria(slug).levels
        for index in range(len(level.routes))
    ]


def _meeting(criteria: TradeCriteria, routes: list[Route]) -> JudgmentInputs:
    """The least a worker needs to meet every given route: their largest day figures, with 職長
    days covering the 職長-or-班長 figure as far as they go, and one choice per needed item."""
    foreman = max(route.foreman_days for route in routes)
    either = max(route.foreman_or_team_leader_days for route in routes)
    names = {
        item[0]
        for route in routes for group in route.qualifications for item in group.items[:group.need]
    }
    work_days = max(route.work_days for route in routes)
    return JudgmentInputs(
        trade=criteria.slug, work_days=work_days, trade_work_days=work_days,
        foreman_days=foreman, team_leader_days=max(0, either - foreman),
        qualifications=tuple(HeldQualification(name) for name in sorted(names)),
    )


@pytest.mark.parametrize(("slug", "level", "index"), _every_route())
def test_every_route_is_met_exactly_at_its_thresholds(slug: str, level: int, index: int) -> None:
    criteria = load_criteria(slug)
    route = criteria.levels[level - 2].routes[index]
    lower = [criteria.levels[lower - 2].routes[0] for lower in range(2, level)]
    inputs = _meeting(criteria, [*lower, route])
    held = criteria.registry.closure(inputs.held_names())

    def meets(candidate: JudgmentInputs) -> bool:
        return assess(route, judge(candidate, criteria).counted, held).met

    assert judge(inputs, criteria).level == level
    assert meets(inputs)
    one_day_less = inputs.work_days - 1
    assert not meets(replace(inputs, work_days=one_day_less, trade_work_days=one_day_less))
    if route.foreman_days:
        # The day moves from 職長 to 班長, so only the 職長-only figure falls short.
        assert not meets(replace(inputs, foreman_days=inputs.foreman_days - 1,
                                 team_leader_days=inputs.team_leader_days + 1))
    if route.foreman_or_team_leader_days:
        if inputs.team_leader_days:
            fewer = replace(inputs, team_leader_days=inputs.team_leader_days - 1)
        else:
            fewer = replace(inputs, foreman_days=inputs.foreman_days - 1)
        assert not meets(fewer)
