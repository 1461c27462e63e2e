"""Settlement and seal events stored before their lines lived beside the log (version 1: the
lines inside the event, the package's topic) still load, verify and re-run on SQLite and
PostgreSQL after an upgrade: upcast to line-set names, their lines stored from the old event the
first time they are read."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from ledger.actors import SYSTEM, Actor, Role
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.settlement import (
    DIGEST_PREFIX_BYTES,
    DailySeal,
    KentaikyoSettlement,
    LineSet,
    SettlementTally,
    daily_seal_id,
    digest_prefix_lines,
    event_digest,
    line_set_of,
    parties_as_lines,
    settlement_id,
)
from ledger.settings import Settings
from projections.jobs import kentaikyo as kentaikyo_job
from projections.jobs.files import render_kentaikyo
from projections.jobs.kentaikyo import settle_kentaikyo
from projections.jobs.queries import kentaikyo_settlements
from projections.jobs.rawlog import iter_raw
from projections.jobs.seal import seal_days
from projections.jobs.seal_verify import verify_seals
from projections.settlement import catch_up as project_decisions
from tests.integration.jobs_world import CARDS, SITE, SITE_B, SUB, T1, T2, T3, World, jst
from tests.integration.test_jobs_kentaikyo import PRIME_STAFF
from tests.integration.test_jobs_seal import tamper_direction

OLD_MODULE = "ledger.domain.settlement"  # the module every settlement aggregate was in


@pytest.fixture
def world(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    with World.built(ledger, settings, now, at=jst(2024, 11, 1, 9),
                     opened_on=date(2024, 11, 1)) as built:
        yield built


def store_as_version_1(ledger: Ledger, event: Any, embedded: dict[str, Any]) -> StoredEvent:
    """Write `event` as the code before line sets wrote it: the lines inside the state, no
    class_version, the aggregate and event named by the old module. Returns the stored row."""
    stored = ledger.mapper.to_stored_event(event)
    plain = ledger.mapper.cipher.decrypt(stored.state) if ledger.mapper.cipher else stored.state
    state = ledger.mapper.transcoder.decode(plain)
    assert state.pop("class_version") in (2, 3)  # a settlement's, or a seal's
    for later_field in ("head", "signature", "chunk_roots"):  # a version-3 seal's own
        state.pop(later_field, None)
    state.update(embedded)
    state["originator_topic"] = f"{OLD_MODULE}:{type(event).__qualname__.split('.')[0]}"
    encoded = ledger.mapper.transcoder.encode(state)
    old = StoredEvent(stored.originator_id, 1, f"{OLD_MODULE}:{type(event).__qualname__}",
                      ledger.mapper.cipher.encrypt(encoded) if ledger.mapper.cipher else encoded)
    ledger.recorder.insert_events([old])
    return old


# -- 就労実績報告 ----------------------------------------------------------------------------
def month_lines(world: World, month: str) -> tuple[list[list[Any]], dict[str, dict[str, str]]]:
    """The month's worker-day lines and parties, as the old job computed them."""
    with world.store.read() as tx:
        enrollment = kentaikyo_job._enrollment(tx)
        sites = kentaikyo_job._sites(tx)
        days = [[*k, *v] for k, v in kentaikyo_job._day_values(tx, month, enrollment, sites)]
    return days, {
        "sites": {row[2]: sites[row[2]].prime_business_id for row in days},
        "members": {row[0]: enrollment.members[row[0]] for row in days
                    if row[0] in enrollment.members},
        "contracts": {row[1]: enrollment.contracts[row[1]] for row in days
                      if row[1] in enrollment.contracts},
    }


def issue_the_old_way(world: World, month: str) -> tuple[list[list[Any]], dict[str, str]]:
    """Issue `month` as version 1 did: the lines in the event, each file named by the SHA-256
    of its bytes. Returns the lines and those file hashes."""
    days, parties = month_lines(world, month)
    issued_at = world.clock.now()
    files = {name: hashlib.sha256(data).hexdigest() for name, data in
             render_kentaikyo(month, days, [], parties, issued_at).items()}
    tally = SettlementTally(month)
    for line in days:
        tally.day(line)
    settlement = KentaikyoSettlement.issue(
        tally, line_set_of(days), line_set_of([]), line_set_of(parties_as_lines(parties)), files,
        world.ledger.log_position(), SYSTEM, issued_at)
    store_as_version_1(world.ledger, settlement.collect_events()[0],
                       {"days": days, "adjustments": [], "parties": parties})
    return days, files


def test_a_version_1_settlement_loads_rerenders_equal_and_is_adjusted_against(
    world: World, tmp_path: Path
) -> None:
    world.work(SITE, T1, date(2024, 11, 5))
    world.work(SITE_B, T2, date(2024, 11, 6))
    world.work(SITE, T3, date(2024, 11, 6))  # not a member: a line without points
    world.clock.at = jst(2024, 12, 10, 4)
    world.catch_up()
    days, files = issue_the_old_way(world, "2024-11")
    assert len(days) == 3
    assert not world.ledger.lines.has(line_set_of(days))  # nothing beside the log yet

    settlement = world.ledger.kentaikyo_settlement("2024-11")
    assert settlement is not None
    assert settlement.day_lines == line_set_of(days)
    assert settlement.adjustment_lines == LineSet(hashlib.sha256().hexdigest(), 0)
    assert settlement.points_yen == sum(line[4] for line in days) > 0
    assert settlement.files == files
    assert list(world.ledger.lines_of(settlement.id, settlement.day_lines)) == days
    assert world.ledger.lines.has(settlement.day_lines)  # stored from the old event, once

    # A re-run of the month issues nothing and renders files equal to what was issued: into an
    # empty folder, and over the files written then.
    fresh = settle_kentaikyo(world.ledger, world.store, "2024-11", SYSTEM, tmp_path / "a")
    assert (fresh["issued"], fresh["files_written"], fresh["day_lines"]) == (0, 4, 3)
    folder = tmp_path / "a" / "kentaikyo" / "2024-11"
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.iterdir()} == files
    again = settle_kentaikyo(world.ledger, world.store, "2024-11", SYSTEM, tmp_path / "a")
    assert (again["issued"], again["files_written"]) == (0, 0)

    # The jobs' projection follows the old topic.
    assert [(s["month"], s["day_lines"], s["files"]) for s in
            kentaikyo_settlements(world.store)] == [("2024-11", 3, files)]

    # The next month diffs November as issued (the old event's lines) against now: a late
    # manual entry for November is its only adjustment.
    world.clock.at = jst(2024, 12, 11, 9)
    entry = world.ledger.request_manual_entry(
        T1, SITE, date(2024, 11, 20), SUB, "鉄筋", "一般", "配筋", Actor(Role.EMPLOYER, SUB))
    world.ledger.approve(entry, PRIME_STAFF)
    world.clock.at = jst(2025, 1, 10, 4)
    december = settle_kentaikyo(world.ledger, world.store, "2024-12", SYSTEM, tmp_path / "b")
    assert december["adjustment_lines"] == 1 and december["adjustment_yen"] > 0
    later = world.ledger.kentaikyo_settlement("2024-12")
    assert later is not None
    (adjustment,) = world.ledger.lines_of(later.id, later.adjustment_lines)
    assert adjustment[:5] == ["2024-11", T1, SUB, SITE, "2024-11-20"] and adjustment[7] is None

    (stored,) = world.ledger.recorder.select_events(settlement_id("2024-11"))
    assert stored.topic == f"{OLD_MODULE}:KentaikyoSettlement.Issued"  # never rewritten


# -- 封印 ----------------------------------------------------------------------------------
def seal_the_old_way(world: World, day: date) -> StoredEvent:
    """Seal `day` (the chain's first, every event so far) as version 1 did: the SHA-256 chain
    of each stored row's digest, every prefix in one base64 string."""
    hasher, prefixes, count, last_position = hashlib.sha256(), bytearray(), 0, 0
    for raw in iter_raw(world.store, 0):
        digest = event_digest(raw.originator_id, raw.version, raw.topic, raw.state)
        hasher.update(digest)
        prefixes += digest[:DIGEST_PREFIX_BYTES]
        count, last_position = count + 1, raw.position
    seal = DailySeal.seal(day, None, last_position, count, hasher.hexdigest(),
                          line_set_of(digest_prefix_lines(prefixes)), SYSTEM, world.clock.now())
    return store_as_version_1(
        world.ledger, seal.collect_events()[0],
        {"event_digests": base64.b64encode(bytes(prefixes)).decode()})


def old_digests(world: World, stored: StoredEvent) -> str:
    state = world.ledger.mapper.transcoder.decode(stored.state)
    assert "class_version" not in state
    digests: str = state["event_digests"]
    return digests


def test_a_version_1_seal_verifies_and_the_chain_goes_on_from_it(
    world: World, settings: Settings
) -> None:
    d18, d19 = date(2024, 11, 18), date(2024, 11, 19)
    world.clock.at = jst(2024, 11, 18, 9)
    tapped = world.tap(SITE, CARDS[T1], "in", jst(2024, 11, 18, 10))
    world.clock.at = jst(2024, 11, 19, 3)
    old = seal_the_old_way(world, d18)
    world.tap(SITE, CARDS[T1], "in", jst(2024, 11, 19, 8))
    world.clock.at = jst(2024, 11, 20, 3)

    assert not world.ledger.lines.has(
        line_set_of(digest_prefix_lines(base64.b64decode(old_digests(world, old)))))
    first = verify_seals(world.ledger, world.store)
    assert first.ok and first.seals_checked == 1 and first.events_checked > 0
    assert seal_days(world.ledger, world.store, d19, SYSTEM)["sealed"] == 1  # follows the old
    verified = verify_seals(world.ledger, world.store)
    assert verified.ok and verified.seals_checked == 2
    assert verified.last_sealed_day == d19

    s18 = world.ledger.repository.get(daily_seal_id(d18))
    assert isinstance(s18, DailySeal) and s18.head.last_position >= tapped
    assert world.ledger.lines.has(s18.event_digests)  # stored from the old event
    assert world.ledger.recorder.select_events(daily_seal_id(d18))[0].state == old.state

    # The restored prefixes still point at a changed event inside the old seal's day.
    project_decisions(world.ledger, world.store)
    tamper_direction(world, tapped)  # the tap's "in" turned "out" in its stored bytes
    broken = verify_seals(world.ledger, world.store)
    assert broken.first_mismatch is not None and broken.first_mismatch.position == tapped
