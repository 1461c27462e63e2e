"""Property: more days or more qualifications never lower a worker's level, in any trade."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.levels import (
    CareerCertificate,
    HeldQualification,
    JudgmentInputs,
    default_registry,
    judge,
    known_trades,
    load_criteria,
)

NAMES = sorted(default_registry().names)
TRAINED_ON = date(2018, 4, 1)
# Day figures cluster on the thresholds (±1), where a wrong comparison would show.
THRESHOLDS = (108, 215, 430, 645, 1075, 1505, 1720, 2150)
days = st.one_of(
    st.integers(min_value=0, max_value=2600),
    st.sampled_from(sorted({t + d for t in THRESHOLDS for d in (-1, 0, 1)})),
)
names = st.frozensets(st.sampled_from(NAMES), max_size=8)


def trade_names(trade: str) -> list[str]:
    """Names a trade's criteria mention, so that random workers reach every level often enough."""
    return sorted({
        name
        for level in load_criteria(trade).levels for route in level.routes
        for group in route.qualifications for item in group.items for name in item
    })


@st.composite
def workers(draw: st.DrawFn) -> JudgmentInputs:
    trade = draw(st.sampled_from(known_trades()))
    pool = trade_names(trade)
    # Each name the trade's criteria mention is held with odds of 3 in 4, plus unrelated names.
    chosen = draw(st.lists(st.integers(0, 3).map(bool), min_size=len(pool), max_size=len(pool)))
    held = {name for name, holds in zip(pool, chosen, strict=True) if holds} | draw(names)
    work_days = draw(days)
    return JudgmentInputs(
        trade=trade,
        work_days=work_days,
        trade_work_days=draw(st.integers(min_value=0, max_value=work_days)),
        foreman_days=draw(days),
        team_leader_days=draw(days),
        qualifications=tuple(HeldQualification(name) for name in sorted(held)),
        foreman_training_on=TRAINED_ON if draw(st.booleans()) else None,
    )


def level(inputs: JudgmentInputs) -> int:
    return judge(inputs, load_criteria(inputs.trade)).level


@settings(max_examples=300)
@given(workers(), days, days, days, names, st.booleans(), st.booleans())
def test_more_days_or_qualifications_never_lower_the_level(
    worker: JudgmentInputs, more_work: int, more_foreman: int, more_team_leader: int,
    more_names: frozenset[str], trains: bool, certified: bool,
) -> None:
    more_qualifications = tuple(HeldQualification(name) for name in sorted(more_names))
    richer = replace(
        worker,
        qualifications=worker.qualifications + more_qualifications,
        foreman_training_on=TRAINED_ON if trains else worker.foreman_training_on,
    )
    if certified:
        # The extra days arrive as a 経歴証明 instead of as CCUS work records.
        richer = replace(
            richer, certificates=(CareerCertificate(more_work, more_foreman, more_team_leader),)
        )
    else:
        richer = replace(
            richer,
            work_days=worker.work_days + more_work,
            trade_work_days=worker.trade_work_days + more_work,
            foreman_days=worker.foreman_days + more_foreman,
            team_leader_days=worker.team_leader_days + more_team_leader,
        )
    assert level(richer) >= level(worker)


@given(workers())
def test_a_judgment_below_level_4_always_says_what_is_missing(worker: JudgmentInputs) -> None:
    judgment = judge(worker, load_criteria(worker.trade))
    if judgment.level < 4:
        assert judgment.next_level == judgment.level + 1
        assert judgment.gaps and all(gap.missing > 0 for gap in judgment.gaps)
    else:
        assert judgment.gaps == ()
