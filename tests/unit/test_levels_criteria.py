"""The criteria data: every shipped file loads and validates, names agree across files, and a
malformed file or an unknown trade is a clear error naming what is wrong and where."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from projections.levels import (
    FOREMAN_TRAINING,
    CriteriaError,
    JudgmentInputs,
    UnknownTradeError,
    default_registry,
    judge,
    known_trades,
    load_criteria,
    load_criteria_file,
)
from projections.levels.qualifications import parse_registry

SHIPPED = ["denki-koji", "garasu", "kenchiku-daiku", "tekkin", "tobi"]

VALID = """\
slug = "sakan"
name = "左官"
work_days_scope = "all_trades"
sources = ["https://example.org/sakan"]
checked_on = 2026-11-21

[[levels]]
level = 2
[[levels.routes]]
label = "L2"
work_days = 645
qualifications = [{ all_of = ["玉掛技能講習"] }]

[[levels]]
level = 3
[[levels.routes]]
label = "L3"
work_days = 1505
foreman_or_team_leader_days = 645
qualifications = [{ at_least = 2, of = ["一級建築士", ["二級建築士", "木造建築士"]] }]

[[levels]]
level = 4
[[levels.routes]]
label = "L4"
work_days = 2150
foreman_days = 645
"""


def write(tmp_path: Path, text: str, name: str = "sakan.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class TestShippedFiles:
    def test_the_five_trades_are_known(self) -> None:
        assert known_trades() == SHIPPED

    @pytest.mark.parametrize("slug", SHIPPED)
    def test_each_file_loads_with_levels_2_to_4(self, slug: str) -> None:
        criteria = load_criteria(slug)
        assert [level.level for level in criteria.levels] == [2, 3, 4]
        assert criteria.sources and all(url.startswith("http") for url in criteria.sources)

    @pytest.mark.parametrize("slug", SHIPPED)
    def test_each_file_header_names_its_source_and_check_date(self, slug: str) -> None:
        text = files("projections.levels").joinpath(f"criteria/{slug}.toml").read_text("utf-8")
        header = text.split("\n\n", 1)[0]
        assert "# Source: http" in header
        assert "# Checked: 2026-11-21" in header

    @pytest.mark.parametrize("slug", SHIPPED)
    def test_thresholds_grow_with_the_level(self, slug: str) -> None:
        levels = load_criteria(slug).levels
        cheapest = [min(route.work_days for route in level.routes) for level in levels]
        assert cheapest == sorted(cheapest)
        assert cheapest[0] == 645  # 3 years for レベル2 in every table read
        assert max(route.work_days for route in levels[2].routes) == 2150

    @pytest.mark.parametrize(("spelling", "slug"), [
        ("鉄筋", "tekkin"), ("tekkin", "tekkin"), ("電工", "denki-koji"), ("09-01", "denki-koji"),
        ("鳶", "tobi"), ("34-07", "kenchiku-daiku"), ("ガラス", "garasu"),
    ])
    def test_a_trade_is_found_by_name_slug_alias_or_code(self, spelling: str, slug: str) -> None:
        assert load_criteria(spelling).slug == slug

    def test_an_unknown_trade_names_itself_and_lists_the_known_ones(self) -> None:
        with pytest.raises(UnknownTradeError) as raised:
            load_criteria("左官")
        message = str(raised.value)
        assert "'左官'" in message
        assert "tekkin (鉄筋)" in message and "tobi (とび)" in message


class TestQualificationNames:
    def test_foreman_training_is_a_canonical_name(self) -> None:
        assert default_registry().canonical(FOREMAN_TRAINING) == FOREMAN_TRAINING

    @pytest.mark.parametrize(("higher", "lower"), [
        ("一級鉄筋施工技能士", "二級鉄筋施工技能士"),
        ("第一種電気工事士", "第二種電気工事士"),
        ("1級とび技能士", "二級とび技能士"),
        ("一級建築施工管理技士", "二級建築施工管理技士"),
    ])
    def test_a_higher_grade_implies_the_lower(self, higher: str, lower: str) -> None:
        registry = default_registry()
        assert lower in registry.closure([higher])
        assert registry.canonical(higher) not in registry.closure([lower])

    def test_passing_the_第一種_exam_is_not_the_licence(self) -> None:
        held = default_registry().closure(["第一種電気工事士試験合格"])
        assert held == {"第一種電気工事士試験合格"}

    def test_implies_must_name_a_defined_qualification(self) -> None:
        data = {"qualifications": {FOREMAN_TRAINING: {}, "一級X": {"implies": ["二級X"]}}}
        with pytest.raises(CriteriaError, match=r"qualifications\.一級X\.implies: '二級X'"):
            parse_registry(data, "qualifications.toml")

    def test_an_alias_may_name_only_one_qualification(self) -> None:
        data = {"qualifications": {FOREMAN_TRAINING: {}, "A": {"aliases": ["Z"]},
                                   "B": {"aliases": ["Z"]}}}
        with pytest.raises(CriteriaError, match=r"qualifications\.B\.aliases: 'Z' already names"):
            parse_registry(data, "qualifications.toml")

    def test_a_cycle_of_implications_is_refused(self) -> None:
        data = {"qualifications": {FOREMAN_TRAINING: {}, "A": {"implies": ["B"]},
                                   "B": {"implies": ["A"]}}}
        with pytest.raises(CriteriaError, match="implies itself"):
            parse_registry(data, "qualifications.toml")


class TestMalformedFiles:
    def test_the_valid_sample_loads(self, tmp_path: Path) -> None:
        criteria = load_criteria_file(write(tmp_path, VALID))
        assert (criteria.slug, criteria.levels[1].routes[0].qualifications[0].need) == ("sakan", 2)

    @pytest.mark.parametrize(("old", "new", "key", "message"), [
        ("foreman_days = 645", "foremen_days = 645", "levels[2].routes[0].foremen_days",
         "unknown key"),
        ("work_days = 1505", "work_days = -1505", "levels[1].routes[0].work_days",
         "must not be negative"),
        ("work_days = 645", "work_days = 64.5", "levels[0].routes[0].work_days",
         "whole number of days"),
        ("level = 3", "level = 5", "levels", "found [2, 5, 4]"),
        ('"玉掛技能講習"', '"玉掛け名人"', "levels[0].routes[0].qualifications[0].all_of[0]",
         "not in qualifications.toml"),
        ('"玉掛技能講習"', '"玉掛け技能講習"', "levels[0].routes[0].qualifications[0].all_of[0]",
         "write the canonical name '玉掛技能講習'"),
        ("at_least = 2", "at_least = 3", "levels[1].routes[0].qualifications[0].at_least",
         "asks for 3 of only 2 items"),
        ('all_of = ["玉掛技能講習"]', 'all_of = ["玉掛技能講習"], one_of = ["一級建築士"]',
         "levels[0].routes[0].qualifications[0].(group)", "exactly one of"),
        ('"all_trades"', '"some_trades"', "work_days_scope", "must be one of"),
        ('slug = "sakan"', 'slug = "sakan2"', "slug", "does not match the file name"),
    ])
    def test_an_error_names_the_file_and_the_key(
        self, tmp_path: Path, old: str, new: str, key: str, message: str
    ) -> None:
        assert old in VALID
        with pytest.raises(CriteriaError) as raised:
            load_criteria_file(write(tmp_path, VALID.replace(old, new, 1)))
        assert (raised.value.source, raised.value.key) == ("sakan.toml", key)
        assert message in raised.value.message
        assert str(raised.value).startswith(f"sakan.toml: {key}: ")

    def test_a_missing_level_is_a_gap(self, tmp_path: Path) -> None:
        without_level_3 = VALID.split("[[levels]]\nlevel = 3")[0] + "[[levels]]\nlevel = 4" + \
            VALID.split("[[levels]]\nlevel = 4")[1]
        with pytest.raises(CriteriaError, match=r"sakan\.toml: levels: .*found \[2, 4\]"):
            load_criteria_file(write(tmp_path, without_level_3))

    def test_invalid_toml_names_the_file(self, tmp_path: Path) -> None:
        with pytest.raises(CriteriaError, match=r"sakan\.toml: \(file\): is not valid TOML"):
            load_criteria_file(write(tmp_path, VALID + "\nlevel = \n"))

    def test_a_trade_scoped_file_counts_work_days_in_the_trade(self, tmp_path: Path) -> None:
        scoped = load_criteria_file(write(tmp_path, VALID.replace('"all_trades"', '"trade"')))
        inputs = JudgmentInputs(trade="左官", work_days=1000, trade_work_days=600)
        judgment = judge(inputs, scoped)
        assert judgment.missing == ("needs 645 左官 work days (has 600)", "needs 玉掛技能講習")
