"""Level judgment (能力評価) from real records: thresholds reached through one real day on top of
経歴証明 for the bulk, 職長/班長 days counted once a date, a correction to 職長 adding a day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from uuid import uuid4

import pytest

from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.worker import CertificateClaim, CertifierRelation
from ledger.settings import Settings
from projections.levels import CardColour, UnknownTradeError, known_trades
from projections.queries import LevelJudgment, level_judgments
from projections.store import Tx
from tests.integration.queries_world import (
    ADMIN,
    EMPLOYER_ADMIN,
    PRIME_STAFF,
    SITE,
    SITE_B,
    SUB,
    TECHNICIAN,
    Scene,
    jst,
)


@pytest.fixture
def scene(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[Scene]:
    with Scene.built(ledger, settings, now) as built:
        built.open_site(SITE_B, "100", "GATE-B")
        ledger.add_qualification(TECHNICIAN, "玉掛技能講習", date(2010, 4, 1), ADMIN)
        yield built


def certify(ledger: Ledger, work_days: int, foreman_days: int = 0, trade: str = "鉄筋") -> None:
    """As an upper subcontractor (SUB employs the worker only since 2020), confirmed by admin."""
    certificate = str(uuid4())
    ledger.propose_career_certificate(
        TECHNICIAN, certificate,
        CertificateClaim(SUB, CertifierRelation.UPPER_SUBCONTRACTOR, trade, date(2010, 4, 1),
                         date(2024, 3, 31), work_days, foreman_days),
        "施工体制台帳", ADMIN)
    ledger.confirm_career_certificate(TECHNICIAN, certificate, ADMIN)


def tekkin(tx: Tx) -> LevelJudgment:
    [judgment] = level_judgments(tx, TECHNICIAN, "鉄筋")
    return judgment


@pytest.mark.parametrize(("certified", "level"), [(643, 1), (644, 2)])
def test_level_2_needs_645_work_days_one_of_them_a_real_record(
    scene: Scene, ledger: Ledger, certified: int, level: int,
) -> None:
    certify(ledger, certified)
    scene.shift("GATE-1", jst(2025, 6, 2, 8))
    with scene.read() as tx:
        judgment = tekkin(tx)
    assert judgment.figures.work_days == 1 and judgment.figures.certified.work_days == certified
    assert judgment.judgment.counted.work_days == certified + 1
    assert judgment.level == level
    if level == 1:
        assert judgment.missing == ("needs 645 work days (has 644)",)
    else:
        assert judgment.card_colour is CardColour.BLUE


@pytest.mark.parametrize(("position", "level"), [("一般", 2), ("職長", 3)])
def test_level_3_foreman_or_team_leader_threshold_reached_by_a_real_foreman_day(
    scene: Scene, ledger: Ledger, position: str, level: int,
) -> None:
    ledger.add_qualification(TECHNICIAN, "一級鉄筋施工技能士", date(2015, 4, 1), ADMIN)
    certify(ledger, 1504, foreman_days=644)
    scene.roster(SITE, TECHNICIAN, SUB, position=position)
    scene.shift("GATE-1", jst(2025, 6, 2, 8))
    with scene.read() as tx:
        judgment = tekkin(tx)
    assert judgment.judgment.counted.work_days == 1505
    assert judgment.level == level
    if level == 2:
        assert judgment.missing == ("needs 1 more 職長 or 班長 days",)
    else:
        assert judgment.figures.foreman_days == 1 and judgment.card_colour is CardColour.SILVER


def test_a_date_as_both_foreman_and_team_leader_counts_once_as_foreman(scene: Scene) -> None:
    scene.roster(SITE, TECHNICIAN, SUB, position="職長")
    scene.roster(SITE_B, TECHNICIAN, SUB, position="班長")
    scene.shift("GATE-1", jst(2025, 6, 2, 7), hours=4)
    scene.shift("GATE-B", jst(2025, 6, 2, 13), hours=4)
    scene.shift("GATE-B", jst(2025, 6, 3, 8))  # 班長 only
    with scene.read() as tx:
        figures = tekkin(tx).figures
    assert (figures.work_days, figures.trade_work_days) == (2, 2)
    assert (figures.foreman_days, figures.team_leader_days) == (1, 1)


def test_correction_of_position_to_foreman_adds_one_foreman_day_once_approved(
    scene: Scene, ledger: Ledger,
) -> None:
    scene.shift("GATE-1", jst(2025, 6, 2, 8))
    scene.shift("GATE-1", jst(2025, 6, 3, 8))
    correction = ledger.request_correction(TECHNICIAN, SITE, date(2025, 6, 3), SUB,
                                           {"position": "職長"}, "当日は職長", EMPLOYER_ADMIN)
    with scene.read() as tx:
        assert tekkin(tx).figures.foreman_days == 0  # pending: the old version counts
    ledger.approve(correction, PRIME_STAFF)
    with scene.read() as tx:
        figures = tekkin(tx).figures
    assert (figures.work_days, figures.foreman_days, figures.team_leader_days) == (2, 1, 0)


def test_other_trades_count_as_work_days_but_not_trade_work_days(scene: Scene) -> None:
    scene.roster(SITE_B, TECHNICIAN, SUB, trade="電気工事")
    scene.shift("GATE-1", jst(2025, 6, 2, 8))
    scene.shift("GATE-B", jst(2025, 6, 3, 8))
    with scene.read() as tx:
        by_trade = {j.trade: j for j in level_judgments(tx, TECHNICIAN)}
    assert sorted(by_trade) == known_trades()
    tekkin_figures, denki = by_trade["tekkin"].figures, by_trade["denki-koji"].figures
    assert (tekkin_figures.work_days, tekkin_figures.trade_work_days) == (2, 1)
    assert (denki.work_days, denki.trade_work_days) == (2, 1)
    assert by_trade["tobi"].figures.trade_work_days == 0


def test_certified_days_of_another_trade_add_to_all_trade_work_days_only(
    scene: Scene, ledger: Ledger,
) -> None:
    certify(ledger, 644, trade="とび")
    scene.shift("GATE-1", jst(2025, 6, 2, 8))
    with scene.read() as tx:
        judgment = tekkin(tx)
    assert judgment.figures.certified_other_trades_days == 644
    assert judgment.judgment.counted.work_days == 645  # 鉄筋 criteria read all trades' days
    assert judgment.level == 2


def test_as_of_leaves_out_later_records(scene: Scene) -> None:
    scene.shift("GATE-1", jst(2025, 6, 2, 8))
    scene.shift("GATE-1", jst(2025, 6, 3, 8))
    with scene.read() as tx:
        [judgment] = level_judgments(tx, TECHNICIAN, "tekkin", as_of=date(2025, 6, 2))
    assert judgment.figures.work_days == 1


def test_unknown_trade_is_refused(scene: Scene) -> None:
    with scene.read() as tx, pytest.raises(UnknownTradeError):
        level_judgments(tx, TECHNICIAN, "宇宙飛行士")
