"""The site's staff resolve an unknown card (the decision event, then the taps count), and a site
manager decides manual entries only with the prime's grant, on its own sites — on both databases.
The clock stands at 2025-06-20 10:00 JST."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime

import orjson
import pytest

from ledger.actors import Actor, Role, Scope
from ledger.application import Ledger
from ledger.clock import JST, FixedClock
from ledger.errors import InvalidState, InvalidValue, LedgerError, NotPermitted
from ledger.settings import Settings
from projections.audit import audit_work_record
from projections.queries import missing_exits, site_exceptions
from projections.store import as_date
from tests.integration.queries_world import (
    ADMIN,
    PRIME,
    SITE,
    SITE_B,
    SUB,
    TECH_2,
    TECH_3,
    TECHNICIAN,
    Scene,
    jst,
)

JUNE = (date(2025, 6, 1), date(2025, 6, 30))
STRAY = "DEADBEEF"  # a card in no registry
MANAGER = Actor(Role.SITE_MANAGER, PRIME, Scope(sites=frozenset({SITE})))
GRANTED = Actor(Role.SITE_MANAGER, PRIME, Scope(sites=frozenset({SITE}), approves=True))
REASON = "名簿の顔写真と照合"


@pytest.fixture
def scene(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[Scene]:
    with Scene.built(ledger, settings, now) as built:
        built.worker(TECH_2, SUB)  # no card of their own yet: today they tapped a stray one
        built.roster(SITE, TECH_2, SUB, trade="型枠", position="班長")
        built.worker(TECH_3, SUB)  # employed, not on the roster
        built.open_site(SITE_B, PRIME, "GATE-B")
        yield built


def records(scene: Scene, technician_id: str) -> list[tuple[object, ...]]:
    with scene.read() as tx:
        return [(row[0], as_date(row[1]), *row[2:]) for row in tx.execute(
            "SELECT site_id, work_date, employer_business_id, trade, role_position, source, "
            "status FROM {work_records} WHERE technician_id = %s ORDER BY work_date",
            [technician_id])]


def positions(scene: Scene, technician_id: str, work_date: date) -> set[int]:
    """The log positions a work record names as the events behind it."""
    with scene.read() as tx:
        [(stored,)] = tx.execute(
            "SELECT event_positions FROM {work_records} WHERE technician_id = %s "
            "AND site_id = %s AND work_date = %s", [technician_id, SITE, work_date])
    return set(orjson.loads(stored))


def test_an_assigned_card_counts_its_earlier_taps_for_the_worker(scene: Scene) -> None:
    seen = scene.tap("GATE-1", "in", jst(2025, 6, 18, 8), card_id=STRAY)
    scene.tap("GATE-1", "out", jst(2025, 6, 18, 17), card_id=STRAY)
    scene.shift("GATE-1", jst(2025, 6, 19, 8), card_id=STRAY)
    scene.shift("GATE-B", jst(2025, 6, 19, 8), card_id=STRAY)  # another site: not covered
    assert records(scene, TECH_2) == []

    own = scene.tap("GATE-1", "in", jst(2025, 6, 18, 7))  # another worker, their own card
    scene.ledger.assign_unknown_card(SITE, STRAY, seen.tap_id, TECH_2, REASON, MANAGER)
    decision = scene.ledger.log_position()
    later = scene.tap("GATE-1", "in", jst(2025, 6, 20, 8), card_id=STRAY)

    assert records(scene, TECH_2) == [
        (SITE, date(2025, 6, 18), SUB, "型枠", "班長", "card", "counted"),
        (SITE, date(2025, 6, 19), SUB, "型枠", "班長", "card", "counted"),
    ]
    # Each assigned record names the decision among its events, beside its taps; the audit
    # trail of the record reads it back from the log. A record of a card of one's own does not.
    listed = site_exceptions(scene.store, SITE, *JUNE)
    resolved = [e for e in listed if e.resolution is not None]
    for day in (date(2025, 6, 18), date(2025, 6, 19)):
        taps = {e.position for e in resolved if e.reader_time.astimezone(JST).date() == day}
        assert len(taps) == 2
        assert positions(scene, TECH_2, day) == taps | {decision}
    with scene.read() as tx:
        trail = audit_work_record(scene.ledger, tx, TECH_2, SITE, date(2025, 6, 18))
    assert [(e.position, e.event_type, e.reason) for e in trail][-1] == (
        decision, "Site.UnknownCardAssigned", REASON)
    assert [e.event_type for e in trail[:-1]] == ["Tap.Recorded", "Tap.Recorded"]
    assert positions(scene, TECHNICIAN, date(2025, 6, 18)) == {own.position}
    assert len(resolved) == 4
    for exception in resolved:
        assert exception.kinds == ("unknown_card",)  # as the upload was answered
        assert exception.resolved_by == f"site_manager:{PRIME}"
        assert exception.resolved_at == scene.now.now()
        assert exception.resolution == {"kind": "card_assigned", "technician_id": TECH_2,
                                        "tap_id": seen.tap_id, "reason": REASON,
                                        "position": exception.resolution["position"]}
        assert exception.resolution["position"] > exception.position
    # A tap after the decision is flagged again and open: no decision covers taps to come.
    still_open = [e for e in listed if e.resolution is None]
    assert [e.tap_id for e in still_open] == [later.tap_id]
    other_site = site_exceptions(scene.store, SITE_B, *JUNE)
    assert len(other_site) == 2 and all(e.resolution is None for e in other_site)


def test_a_card_issued_later_is_its_holders_and_is_no_longer_assignable(scene: Scene) -> None:
    seen = scene.tap("GATE-1", "in", jst(2025, 6, 17, 8), card_id=STRAY)
    scene.ledger.issue_card(STRAY, TECH_3, ADMIN)
    scene.shift("GATE-1", jst(2025, 6, 18, 8), card_id=STRAY)
    position = scene.ledger.log_position()

    with pytest.raises(InvalidState) as refused:
        scene.ledger.assign_unknown_card(SITE, STRAY, seen.tap_id, TECH_2, REASON, MANAGER)
    assert refused.value.field == "card_id"
    assert scene.ledger.log_position() == position
    assert records(scene, TECH_2) == []
    # The holder's own tap is theirs (not on the roster, so flagged there), never overridden.
    assert [r[1] for r in records(scene, TECH_3)] == [date(2025, 6, 18)]


@pytest.mark.parametrize(
    ("actor", "technician_id", "reason", "error", "field"),
    [
        (MANAGER, TECH_3, REASON, InvalidState, "technician_id"),  # not on the roster
        (MANAGER, "12345678909999", REASON, InvalidState, "technician_id"),  # not registered
        (MANAGER, TECH_2, "  ", InvalidValue, "reason"),
        (MANAGER, TECH_2, "理由\x1b[31m", InvalidValue, "reason"),
        (Actor(Role.SITE_MANAGER, PRIME, Scope(sites=frozenset({SITE_B}))), TECH_2, REASON,
         NotPermitted, "actor"),  # another of the prime's sites
        (Actor(Role.EMPLOYER, SUB), TECH_2, REASON, NotPermitted, "actor"),
        (Actor(Role.PRIME_CONTRACTOR, SUB), TECH_2, REASON, NotPermitted, "actor"),
        (Actor(Role.WORKER, TECH_2), TECH_2, REASON, NotPermitted, "actor"),
    ],
)
def test_a_refused_assignment_writes_nothing_and_names_the_field(
    scene: Scene, actor: Actor, technician_id: str, reason: str, error: type[LedgerError],
    field: str,
) -> None:
    seen = scene.tap("GATE-1", "in", jst(2025, 6, 18, 8), card_id=STRAY)
    position = scene.ledger.log_position()
    with pytest.raises(error) as refused:
        scene.ledger.assign_unknown_card(SITE, STRAY, seen.tap_id, technician_id, reason, actor)
    assert refused.value.field == field
    assert scene.ledger.log_position() == position
    assert all(e.resolution is None for e in site_exceptions(scene.store, SITE, *JUNE))


def test_a_decision_rests_on_a_stored_tap_of_that_card_at_that_site(scene: Scene) -> None:
    """Every tap that is not one of the card's flagged taps at the site is answered alike: the
    same 409 for a tap at another site, of another card, of a known card or of no tap at all."""
    elsewhere = scene.tap("GATE-B", "in", jst(2025, 6, 18, 8), card_id=STRAY)
    other_card = scene.tap("GATE-1", "in", jst(2025, 6, 18, 8), card_id="0000CAFE")
    known = scene.tap("GATE-1", "in", jst(2025, 6, 18, 9))  # the worker's own issued card
    position = scene.ledger.log_position()
    answers = set()
    for tap_id in (elsewhere.tap_id, other_card.tap_id, known.tap_id, "GATE-1:999999"):
        with pytest.raises(InvalidState) as refused:
            scene.ledger.assign_unknown_card(SITE, STRAY, tap_id, TECH_2, REASON, MANAGER)
        answers.add((refused.value.field, refused.value.rule,
                     refused.value.message.replace(tap_id, "<tap>")))
    assert answers == {("tap_id", "unknown_card.tap", f"<tap> is not a tap of {STRAY} at this "
                        "site")}
    with pytest.raises(InvalidValue) as malformed:
        scene.ledger.assign_unknown_card(SITE, STRAY, "no colon", TECH_2, REASON, MANAGER)
    assert malformed.value.field == "tap_id"
    assert scene.ledger.log_position() == position
    # The tap at the other site resolves there, for a worker on that site's roster. Put on it
    # after the tap, so, as for any card tap before its roster entry, the record has the
    # employer of the day and no trade.
    scene.roster(SITE_B, TECH_2, SUB)
    scene.ledger.assign_unknown_card(SITE_B, STRAY, elsewhere.tap_id, TECH_2, REASON, ADMIN)
    assert records(scene, TECH_2) == [
        (SITE_B, date(2025, 6, 18), SUB, None, None, "card", "counted")]


def test_a_site_manager_decides_only_with_the_primes_grant_and_on_its_sites(
    scene: Scene,
) -> None:
    first = scene.manual_entry(date(2025, 6, 18))
    second = scene.manual_entry(date(2025, 6, 18), site_id=SITE_B)
    position = scene.ledger.log_position()
    for actor, request in (
        (MANAGER, first),  # no grant
        (Actor(Role.SITE_MANAGER, PRIME), first),  # no grant, no scope (as the CLI acts)
        (GRANTED, second),  # granted, but not for this site
    ):
        with pytest.raises(NotPermitted) as refused:
            scene.ledger.approve(request, actor)
        assert refused.value.field == "actor"
        with pytest.raises(NotPermitted):
            scene.ledger.reject(request, "現場に来ていない", actor)
    assert scene.ledger.log_position() == position
    scene.ledger.approve(first, GRANTED)
    assert scene.ledger.request(first).status.value == "approved"


def test_a_resolved_missing_exit_is_listed_beside_the_record_until_a_real_exit_closes_it(
    scene: Scene,
) -> None:
    scene.tap("GATE-1", "in", jst(2025, 6, 18, 8))  # the worker's own card; no exit
    scene.project()
    [before] = missing_exits(scene.store, SITE, *JUNE, now=scene.now.now())
    assert before.exit_resolution is None

    scene.ledger.resolve_missing_exit(SITE, TECHNICIAN, date(2025, 6, 18),
                                      jst(2025, 6, 18, 18), "職長が18時の退場を確認", MANAGER)
    scene.project()
    decision = scene.ledger.log_position()
    [stated] = missing_exits(scene.store, SITE, *JUNE, now=scene.now.now())
    assert stated.exit_resolution is not None
    assert dict(stated.exit_resolution) == {
        "exit_at": jst(2025, 6, 18, 18), "time_unknown": False,
        "reason": "職長が18時の退場を確認", "resolved_by": f"site_manager:{PRIME}",
        "resolved_at": scene.now.now(), "position": decision}  # the row names its event
    # The record is as it was: its card times, its work day; the statement is no tap.
    assert replace(stated, exit_resolution=None) == before
    assert stated.last_exit is None and stated.status.value == "counted"

    scene.ledger.resolve_missing_exit(SITE, TECHNICIAN, date(2025, 6, 18), None,
                                      "退場時刻は不明", ADMIN)
    scene.project()
    [unknown] = missing_exits(scene.store, SITE, *JUNE, now=scene.now.now())
    assert unknown.exit_resolution is not None
    assert unknown.exit_resolution["time_unknown"] is True
    assert unknown.exit_resolution["exit_at"] is None  # the latest decision is shown

    scene.tap("GATE-1", "out", jst(2025, 6, 18, 19))  # a real exit, sent late: it wins
    scene.project()
    assert missing_exits(scene.store, SITE, *JUNE, now=scene.now.now()) == []
    assert records(scene, TECHNICIAN) == [
        (SITE, date(2025, 6, 18), SUB, "鉄筋", "一般", "card", "counted")]


@pytest.mark.parametrize(
    ("actor", "technician_id", "work_date", "exit_at", "error", "field"),
    [
        (MANAGER, TECH_3, date(2025, 6, 18), None, InvalidState, "technician_id"),
        (MANAGER, TECHNICIAN, date(2025, 6, 20), None, InvalidValue, "work_date"),  # today
        (MANAGER, TECHNICIAN, date(2025, 6, 18), jst(2025, 6, 17, 23), InvalidValue, "exit_at"),
        (MANAGER, TECHNICIAN, date(2025, 6, 18), jst(2025, 6, 20, 0), InvalidValue, "exit_at"),
        (MANAGER, TECHNICIAN, date(2025, 6, 19), jst(2025, 6, 20, 11), InvalidValue, "exit_at"),
        (MANAGER, TECHNICIAN, date(2025, 6, 18), datetime(2025, 6, 18, 18), InvalidValue,
         "exit_at"),  # no offset
        (Actor(Role.EMPLOYER, SUB), TECHNICIAN, date(2025, 6, 18), None, NotPermitted, "actor"),
        (Actor(Role.SITE_MANAGER, PRIME, Scope(sites=frozenset({SITE_B}))), TECHNICIAN,
         date(2025, 6, 18), None, NotPermitted, "actor"),
    ],
)
def test_a_refused_exit_resolution_writes_nothing_and_names_the_field(
    scene: Scene, actor: Actor, technician_id: str, work_date: date, exit_at: datetime | None,
    error: type[LedgerError], field: str,
) -> None:
    position = scene.ledger.log_position()
    with pytest.raises(error) as refused:
        scene.ledger.resolve_missing_exit(SITE, technician_id, work_date, exit_at, "確認済み",
                                          actor)
    assert refused.value.field == field
    assert scene.ledger.log_position() == position
