"""Scopes: a prime's scope never returns records at another prime's site; an employer's scope
returns only records where it is the employer. The API decides who gets which scope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.settings import Settings
from projections.queries import DayCount, career_records, career_summary
from tests.integration.queries_world import (
    ADMIN,
    OTHER,
    OTHER_SITE,
    PRIME,
    SITE,
    SITE_B,
    SUB,
    TECHNICIAN,
    Scene,
    jst,
)

JUNE = (date(2025, 6, 1), date(2025, 6, 30))


@pytest.fixture
def scene(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[Scene]:
    with Scene.built(ledger, settings, now) as built:
        built.open_site(SITE_B, PRIME, "GATE-B", subcontractors=(SUB, OTHER))
        built.open_site(OTHER_SITE, OTHER, "GATE-O")
        ledger.join_employer(TECHNICIAN, OTHER, date(2025, 1, 1), False, ADMIN)
        built.roster(SITE_B, TECHNICIAN, OTHER)  # on SITE_B for its second employer
        built.roster(OTHER_SITE, TECHNICIAN, SUB)
        built.shift("GATE-1", jst(2025, 6, 2, 8))
        built.shift("GATE-B", jst(2025, 6, 3, 8))
        built.shift("GATE-O", jst(2025, 6, 4, 8))
        built.shift("GATE-O", jst(2025, 6, 5, 8))
        yield built


def test_a_primes_scope_never_returns_records_at_another_primes_site(scene: Scene) -> None:
    with scene.read() as tx:
        everything = career_records(tx, TECHNICIAN, *JUNE)
        prime = career_records(tx, TECHNICIAN, *JUNE, only_sites_of_prime=PRIME)
        other = career_records(tx, TECHNICIAN, *JUNE, only_sites_of_prime=OTHER)
        prime_summary = career_summary(tx, TECHNICIAN, *JUNE, only_sites_of_prime=PRIME)
    assert {r.site_id for r in everything} == {SITE, SITE_B, OTHER_SITE}
    assert [r.site_id for r in prime] == [SITE, SITE_B]
    assert [r.site_id for r in other] == [OTHER_SITE, OTHER_SITE]
    assert prime_summary.total == DayCount(2, 2) and OTHER_SITE not in prime_summary.by_site


def test_an_employers_scope_returns_only_records_where_it_is_the_employer(scene: Scene) -> None:
    with scene.read() as tx:
        sub = career_records(tx, TECHNICIAN, *JUNE, only_employer=SUB)
        other = career_summary(tx, TECHNICIAN, *JUNE, only_employer=OTHER)
        both = career_records(tx, TECHNICIAN, *JUNE, only_sites_of_prime=PRIME, only_employer=SUB)
    assert [(r.site_id, r.employer_business_id) for r in sub] == [
        (SITE, SUB), (OTHER_SITE, SUB), (OTHER_SITE, SUB)]
    assert other.total == DayCount(1, 1) and list(other.by_site) == [SITE_B]
    assert [r.site_id for r in both] == [SITE]


def test_a_business_with_no_records_sees_nothing(scene: Scene) -> None:
    with scene.read() as tx:
        assert career_records(tx, TECHNICIAN, *JUNE, only_sites_of_prime="999") == []
        assert career_summary(tx, TECHNICIAN, *JUNE, only_employer="999").total == DayCount(0, 0)
