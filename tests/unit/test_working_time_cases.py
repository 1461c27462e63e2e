"""Working time, 36 agreements and a site's terms as use cases of the Ledger, in memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.domain.working_time import (
    OvertimeAgreement,
    SiteTerms,
    WorkingTimeMonth,
    overtime_agreement_id,
    site_terms_id,
    working_time_month_id,
)
from ledger.errors import InvalidState, InvalidValue, NotPermitted, UnknownReference
from ledger.settings import Settings
from tests.integration.world import (
    ADMIN,
    EMPLOYER_ADMIN,
    OTHER,
    PRIME,
    PRIME_STAFF,
    SITE,
    SUB,
    TECHNICIAN,
    WORKER_SELF,
    register_world,
)

DAY = date(2025, 6, 19)
JUNE = date(2025, 6, 1)
H = 60


@pytest.fixture
def ledger(now: clock.FixedClock) -> Iterator[Ledger]:
    app = Ledger(Settings(database_url="sqlite:////nonexistent/ledger.db"), in_memory=True)
    register_world(app)
    yield app
    app.close()


def month_of(ledger: Ledger, employer: str = SUB) -> WorkingTimeMonth:
    found = ledger.repository.get(working_time_month_id(employer, TECHNICIAN, JUNE))
    assert isinstance(found, WorkingTimeMonth)
    return found


def log_names(ledger: Ledger) -> list[str]:
    return [type(e).__qualname__ for _, e in ledger.iter_log()]


def test_the_employer_reports_a_day_and_corrects_it_with_a_reason(ledger: Ledger) -> None:
    ledger.report_working_day(TECHNICIAN, DAY, 8 * H, 2 * H, 0, EMPLOYER_ADMIN)
    with pytest.raises(InvalidValue) as refused:
        ledger.report_working_day(TECHNICIAN, DAY, 8 * H, 3 * H, 0, EMPLOYER_ADMIN)
    assert refused.value.rule == "working_time.correction_reason"
    ledger.report_working_day(TECHNICIAN, DAY, 8 * H, 3 * H, 0, EMPLOYER_ADMIN,
                              reason="日報の転記誤り")
    assert month_of(ledger).days[DAY] == (8 * H, 3 * H, 0)
    # Both reports stay in the log: the correction is a later event, not an overwrite.
    assert log_names(ledger).count("WorkingTimeMonth.DayReported") == 2


def test_a_month_report_and_its_correction(ledger: Ledger) -> None:
    ledger.report_working_month(TECHNICIAN, JUNE, 160 * H, 50 * H, 8 * H, EMPLOYER_ADMIN)
    ledger.report_working_month(TECHNICIAN, JUNE, 160 * H, 52 * H, 8 * H, EMPLOYER_ADMIN,
                                reason="集計漏れ")
    assert month_of(ledger).month_figures == (160 * H, 52 * H, 8 * H)


@pytest.mark.parametrize(("statutory", "overtime", "holiday", "field"), [
    (8 * H + 1, 0, 0, "statutory_minutes"),
    (-1, 0, 0, "statutory_minutes"),
    (8 * H, 16 * H + 1, 0, "overtime_minutes"),
    (8 * H, 1.5, 0, "overtime_minutes"),
])
def test_impossible_figures_are_refused_naming_the_field(
    ledger: Ledger, statutory: int, overtime: int, holiday: int, field: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        ledger.report_working_day(TECHNICIAN, DAY, statutory, overtime, holiday, EMPLOYER_ADMIN)
    assert refused.value.field == field
    assert "WorkingTimeMonth.DayReported" not in log_names(ledger)


def test_only_the_employer_or_admin_reports(ledger: Ledger) -> None:
    for actor in (WORKER_SELF, PRIME_STAFF):
        with pytest.raises(NotPermitted):
            ledger.report_working_day(TECHNICIAN, DAY, 8 * H, 0, 0, actor)
    # A business that does not employ the worker is answered as for an absent worker.
    with pytest.raises(UnknownReference) as hidden:
        ledger.report_working_day(TECHNICIAN, DAY, 8 * H, 0, 0, Actor(Role.EMPLOYER, OTHER))
    with pytest.raises(UnknownReference) as absent:
        ledger.report_working_day("99999999999999", DAY, 8 * H, 0, 0,
                                  Actor(Role.EMPLOYER, OTHER))
    assert (hidden.value.field, hidden.value.rule) == (absent.value.field, absent.value.rule)
    with pytest.raises(InvalidValue):
        ledger.report_working_day(TECHNICIAN, DAY, 8 * H, 0, 0, ADMIN)  # admin names the employer
    ledger.report_working_day(TECHNICIAN, DAY, 8 * H, 0, 0, ADMIN, employer_business_id=SUB)
    assert month_of(ledger).days[DAY] == (8 * H, 0, 0)


def test_a_day_outside_the_employment_is_refused(ledger: Ledger) -> None:
    with pytest.raises(InvalidState) as refused:
        ledger.report_working_day(TECHNICIAN, date(2019, 6, 3), 8 * H, 0, 0, EMPLOYER_ADMIN)
    assert refused.value.rule == "working_time.employment"


def test_a_36_agreement_and_disaster_work(ledger: Ledger) -> None:
    ledger.conclude_overtime_agreement(SUB, date(2025, 4, 1), True, EMPLOYER_ADMIN)
    with pytest.raises(InvalidValue):
        ledger.conclude_overtime_agreement(SUB, date(2025, 4, 1), False, EMPLOYER_ADMIN)
    ledger.conclude_overtime_agreement(SUB, date(2025, 4, 1), False, EMPLOYER_ADMIN,
                                       reason="特別条項なしで締結")
    with pytest.raises(InvalidValue):
        ledger.conclude_overtime_agreement(SUB, date(2025, 4, 2), True, EMPLOYER_ADMIN)
    ledger.declare_disaster_work(SUB, date(2025, 7, 1), date(2025, 7, 20), "豪雨災害の復旧",
                                 EMPLOYER_ADMIN)
    ledger.withdraw_disaster_work(SUB, date(2025, 7, 1), date(2025, 7, 20), "誤登録",
                                  EMPLOYER_ADMIN)
    agreement = ledger.repository.get(overtime_agreement_id(SUB))
    assert isinstance(agreement, OvertimeAgreement)
    assert agreement.agreements == {date(2025, 4, 1): False}
    assert agreement.disaster_periods == set()
    with pytest.raises(UnknownReference):  # another business's agreement: as if absent
        ledger.conclude_overtime_agreement(SUB, date(2025, 4, 1), True,
                                           Actor(Role.EMPLOYER, OTHER))
    with pytest.raises(NotPermitted):
        ledger.conclude_overtime_agreement(SUB, date(2025, 4, 1), True, WORKER_SELF)


def test_the_prime_sets_the_site_s_terms(ledger: Ledger) -> None:
    ledger.name_site_orderer(SITE, OTHER, PRIME_STAFF)
    ledger.exclude_closure_period(SITE, date(2025, 12, 29), date(2026, 1, 3), "year_end",
                                  "年末年始", PRIME_STAFF)
    ledger.set_rotating_shifts(SITE, True, PRIME_STAFF)
    terms = ledger.repository.get(site_terms_id(SITE))
    assert isinstance(terms, SiteTerms)
    assert terms.orderer_business_id == OTHER and terms.rotating_shifts
    with pytest.raises(InvalidValue) as bad_kind:
        ledger.exclude_closure_period(SITE, date(2025, 8, 13), date(2025, 8, 16), "お盆",
                                      "夏季", PRIME_STAFF)
    assert bad_kind.value.field == "kind"
    with pytest.raises(NotPermitted):  # the subcontractor is on the site, but not its prime
        ledger.set_rotating_shifts(SITE, False, Actor(Role.PRIME_CONTRACTOR, SUB))
    with pytest.raises(UnknownReference):  # no relation with the site: as if absent
        ledger.set_rotating_shifts(SITE, False, Actor(Role.PRIME_CONTRACTOR, OTHER))
    with pytest.raises(UnknownReference):  # the orderer must be a registered business
        ledger.name_site_orderer(SITE, "999", PRIME_STAFF)
    ledger.name_site_orderer(SITE, PRIME, ADMIN)
    assert ledger.repository.get(site_terms_id(SITE)).orderer_business_id == PRIME
