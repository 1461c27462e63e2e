"""The prime's inbox: pending manual entries and corrections on its sites, oldest request first,
each with its deadline (end of the month after the work date, JST)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.settings import Settings
from projections.queries import prime_inbox
from tests.integration.queries_world import (
    EMPLOYER_ADMIN,
    OTHER,
    OTHER_SITE,
    PRIME,
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
        built.open_site(SITE_B, PRIME, "GATE-B")
        built.open_site(OTHER_SITE, OTHER, "GATE-O")
        yield built


def test_inbox_lists_pending_requests_oldest_first_with_their_deadlines(
    scene: Scene, ledger: Ledger, now: FixedClock,
) -> None:
    scene.shift("GATE-1", jst(2025, 5, 30, 8))
    entry = scene.manual_entry(date(2025, 6, 5))  # requested 10:00 for a later work date
    now.advance(timedelta(hours=1))
    correction = ledger.request_correction(TECHNICIAN, SITE, date(2025, 5, 30), SUB,
                                           {"position": "職長"}, "職長として従事", EMPLOYER_ADMIN)
    now.advance(timedelta(hours=1))
    ledger.approve(scene.manual_entry(date(2025, 6, 6)), PRIME_STAFF)  # decided: not listed
    scene.manual_entry(date(2025, 6, 7), site_id=OTHER_SITE)  # another prime's site
    with scene.read() as tx:
        inbox = prime_inbox(tx, PRIME)
        other = prime_inbox(tx, OTHER)
    assert [(item.request_id, item.kind) for item in inbox] == [
        (str(entry), "ManualEntry"), (str(correction), "Correction")]
    first, second = inbox
    assert first.deadline == jst(2025, 8, 1)  # the end of July, exclusive
    assert second.deadline == jst(2025, 7, 1)
    assert (first.requested_at, first.requested_by) == (jst(2025, 6, 20, 10), "employer:200")
    assert (first.trade, first.position, first.entry_at) == ("鉄筋", "一般", jst(2025, 6, 5, 8))
    assert (dict(second.changes), second.reason) == ({"position": "職長"}, "職長として従事")
    assert [(item.site_id, item.work_date) for item in other] == [(OTHER_SITE, date(2025, 6, 7))]


def test_inbox_can_be_narrowed_to_one_site_and_empties_as_requests_are_decided(
    scene: Scene, ledger: Ledger,
) -> None:
    on_site = scene.manual_entry(date(2025, 6, 2))
    scene.roster(SITE_B, TECHNICIAN, SUB)
    on_site_b = scene.manual_entry(date(2025, 6, 2), site_id=SITE_B)
    with scene.read() as tx:
        assert [i.request_id for i in prime_inbox(tx, PRIME, site_id=SITE_B)] == [str(on_site_b)]
        assert prime_inbox(tx, PRIME, site_id=OTHER_SITE) == []
    ledger.approve(on_site, PRIME_STAFF)
    ledger.reject(on_site_b, "記録と合わない", PRIME_STAFF)
    with scene.read() as tx:
        assert prime_inbox(tx, PRIME) == []
