from datetime import date

import pytest

from ledger.actors import Actor, Role
from ledger.domain.base import Position
from ledger.domain.site import Site
from ledger.errors import InvalidState, InvalidValue, NotPermitted, UnknownReference
from tests.unit.world import ADMIN, OTHER, PRIME, PRIME_STAFF, SITE, SUB, TECHNICIAN, a_site


def test_the_subcontract_structure_gives_each_business_its_tier() -> None:
    site = a_site()
    site.add_subcontract(OTHER, SUB, Actor(Role.EMPLOYER, SUB))  # the upper subcontractor adds
    assert (site.tier_of(PRIME), site.tier_of(SUB), site.tier_of(OTHER)) == (0, 1, 2)
    assert site.upper_businesses_of(OTHER) == [SUB, PRIME]


def test_a_subcontractor_cannot_attach_under_a_business_not_on_the_site() -> None:
    with pytest.raises(UnknownReference, match="parent_business_id"):
        a_site().add_subcontract("400", OTHER, ADMIN)


def test_an_unrelated_business_may_not_extend_the_structure() -> None:
    with pytest.raises(NotPermitted):
        a_site().add_subcontract(OTHER, SUB, Actor(Role.EMPLOYER, "999"))


def test_roster_entries_name_trade_and_position() -> None:
    site = a_site()
    site.set_roster_entry(TECHNICIAN, SUB, "鉄筋", "職長", date(2025, 1, 6), PRIME_STAFF)
    assert site.roster[TECHNICIAN].position is Position.FOREMAN
    with pytest.raises(InvalidValue, match="position"):
        site.set_roster_entry(TECHNICIAN, SUB, "鉄筋", "社長", date(2025, 1, 6), PRIME_STAFF)
    with pytest.raises(UnknownReference, match="employer"):
        site.set_roster_entry(TECHNICIAN, OTHER, "鉄筋", "一般", date(2025, 1, 6), PRIME_STAFF)


def test_a_prime_opens_its_own_sites_only() -> None:
    with pytest.raises(NotPermitted):
        Site.open(
            SITE, "x", PRIME, "electronic", date(2025, 1, 6), Actor(Role.PRIME_CONTRACTOR, SUB)
        )
    with pytest.raises(InvalidValue, match="kentaikyo_method"):
        Site.open(SITE, "x", PRIME, "cash", date(2025, 1, 6), ADMIN)


def test_a_closed_site_takes_no_more_changes() -> None:
    site = a_site()
    site.close(date(2025, 12, 26), PRIME_STAFF)
    assert site.is_open_on(date(2025, 12, 26)) and not site.is_open_on(date(2025, 12, 27))
    with pytest.raises(InvalidState, match="closed"):
        site.set_roster_entry(TECHNICIAN, SUB, "鉄筋", "一般", date(2025, 1, 6), PRIME_STAFF)
