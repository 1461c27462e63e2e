"""入場時の確認 at the gate: a tap by a worker not on the roster, whose social insurance is not
confirmed on the tap's day, or whose required qualification is missing or expired on it, is
stored, counted and flagged; the reader's answer and the site's exceptions list carry the same
flags (one rule, `tap_flags.judge`). On both databases."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.domain.registry import DirectionMode
from ledger.domain.worker import InsuranceRecord
from ledger.errors import InvalidState, InvalidValue, NotPermitted, UnknownReference
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.queries.exceptions import site_exceptions
from projections.queries.expiry_alerts import site_expiry_alerts, worker_expiry_alerts
from projections.store import ReadStore
from readers.identity import CardIdentity
from readers.inprocess import InProcessTransport
from readers.spool import Spool
from tests.api_support import ADMIN, World, build_world

DAY = date(2025, 6, 20)
AT = datetime(2025, 6, 20, 7, 58, tzinfo=clock.JST)
OTHER_CARD = "0C0FFEE1"
SLINGING = "玉掛技能講習"  # the world's worker holds it (from 2019-05-01)
HARNESS = "フルハーネス特別教育"


@pytest.fixture(autouse=True)
def uploaded_on_time(now: clock.FixedClock) -> None:
    now.at = datetime(2025, 6, 20, 8, 0, tzinfo=clock.JST)


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadStore]:
    read_store = ReadStore(settings)
    yield read_store
    read_store.close()


@pytest.fixture
def world(ledger: Ledger) -> World:
    return build_world(ledger, 1)


def insured(as_of: date, employment: str = "enrolled") -> InsuranceRecord:
    return InsuranceRecord("enrolled", "exempt", employment, as_of,  # type: ignore[arg-type]
                           (("pension", "75歳以上"),))


class Gate:
    """The reader agent's in-process path: spooled taps, one answer each."""

    def __init__(self, ledger: Ledger, world: World, tmp_path: Path) -> None:
        self.transport = InProcessTransport(ledger, world.reader)
        self.spool = Spool(tmp_path / "spool.db", world.reader, first_sequence=1)

    def tap(self, *cards: str, at: datetime = AT) -> list[tuple[str, tuple[str, ...], int]]:
        self.spool.record_all([(CardIdentity(card_id=c), at) for c in cards],
                              DirectionMode.AUTO, timedelta(seconds=0))
        results = self.transport.send(self.spool.pending(len(cards))).results
        self.spool.settle(results, at)  # so the next call sends only the new taps
        return [(r.status, tuple(r.flags), int(r.position or 0)) for r in results]


def listed(store: ReadStore, site_id: str) -> dict[int, tuple[str, ...]]:
    return {e.position: e.kinds
            for e in site_exceptions(store, site_id, DAY - timedelta(days=3), DAY + timedelta(3))}


def work_dates(store: ReadStore, technician_id: str) -> list[str]:
    with store.read() as tx:
        rows = tx.execute("SELECT work_date FROM {work_records} WHERE technician_id = %s "
                          "ORDER BY work_date", [technician_id])
    return [str(r[0])[:10] for r in rows]


def same_in_list(answers: Sequence[tuple[str, tuple[str, ...], int]], store: ReadStore,
                 ledger: Ledger, site_id: str) -> None:
    LogFollower(ledger, store).catch_up()
    assert {p: f for _, f, p in answers if f} == listed(store, site_id)


def test_a_site_without_entry_checks_flags_nothing_new(
    ledger: Ledger, world: World, store: ReadStore, tmp_path: Path
) -> None:
    assert Gate(ledger, world, tmp_path).tap(world.card)[0][:2] == ("accepted", ())


def test_insurance_confirmed_on_the_taps_day_passes_and_the_day_after_does_not(
    ledger: Ledger, world: World, store: ReadStore, tmp_path: Path
) -> None:
    ledger.require_entry_checks(world.site, Actor(Role.PRIME_CONTRACTOR, world.prime))
    gate = Gate(ledger, world, tmp_path)
    ledger.record_social_insurance(world.worker, insured(DAY + timedelta(days=1)), ADMIN)
    later = gate.tap(world.card)  # confirmed as of the next day: not on the tap's day
    ledger.record_social_insurance(world.worker, insured(DAY), ADMIN)
    on_the_day = gate.tap(world.card)
    ledger.record_social_insurance(world.worker, insured(DAY, "not_enrolled"), ADMIN)
    not_enrolled = gate.tap(world.card)
    assert [a[:2] for a in later + on_the_day + not_enrolled] == [
        ("flagged", ("insurance_unconfirmed",)), ("accepted", ()),
        ("flagged", ("insurance_not_enrolled",))]
    same_in_list(later + on_the_day + not_enrolled, store, ledger, world.site)
    assert DAY.isoformat() in work_dates(store, world.worker)  # flagged taps count


def test_a_worker_not_on_the_roster_is_flagged_stored_and_counted(
    ledger: Ledger, world: World, store: ReadStore, tmp_path: Path
) -> None:
    ledger.require_entry_checks(world.site, ADMIN)
    ledger.issue_card(OTHER_CARD, world.other_worker, ADMIN)
    ledger.record_social_insurance(world.other_worker, insured(DAY), ADMIN)
    answers = Gate(ledger, world, tmp_path).tap(OTHER_CARD)
    assert [a[:2] for a in answers] == [("flagged", ("not_on_roster",))]
    same_in_list(answers, store, ledger, world.site)
    assert work_dates(store, world.other_worker) == [DAY.isoformat()]


def test_a_qualification_expiring_the_day_before_the_tap_is_flagged_the_day_of_is_not(
    ledger: Ledger, world: World, store: ReadStore, tmp_path: Path
) -> None:
    prime = Actor(Role.PRIME_CONTRACTOR, world.prime)
    ledger.require_qualification(world.site, SLINGING, "鉄筋", prime)
    ledger.require_qualification(world.site, HARNESS, "とび", prime)  # not the worker's trade
    gate = Gate(ledger, world, tmp_path)
    ledger.set_qualification_expiry(world.worker, SLINGING, DAY - timedelta(days=1), ADMIN)
    expired = gate.tap(world.card)
    ledger.set_qualification_expiry(world.worker, SLINGING, DAY, ADMIN)  # renewed
    on_the_day = gate.tap(world.card)
    ledger.require_qualification(world.site, HARNESS, "", prime)  # every trade now
    missing = gate.tap(world.card)
    ledger.withdraw_qualification(world.site, HARNESS, "", prime)
    withdrawn = gate.tap(world.card)
    answers = expired + on_the_day + missing + withdrawn
    assert [a[:2] for a in answers] == [
        ("flagged", ("qualification_expired",)), ("accepted", ()),
        ("flagged", ("qualification_missing",)), ("accepted", ())]
    same_in_list(answers, store, ledger, world.site)


def test_the_answer_from_the_log_tail_equals_the_one_from_the_read_models(
    ledger: Ledger, world: World, store: ReadStore, tmp_path: Path
) -> None:
    """Rules and facts stored after the read models' position are read from the log."""
    LogFollower(ledger, store).catch_up()
    ledger.require_entry_checks(world.site, ADMIN)
    ledger.require_qualification(world.site, SLINGING, "", ADMIN)
    ledger.set_qualification_expiry(world.worker, SLINGING, DAY - timedelta(days=1), ADMIN)
    gate = Gate(ledger, world, tmp_path)
    tail = gate.tap(world.card)
    LogFollower(ledger, store).catch_up()
    projected = gate.tap(world.card)
    assert [a[:2] for a in tail] == [a[:2] for a in projected] == [
        ("flagged", ("insurance_unconfirmed", "qualification_expired"))]
    same_in_list(tail + projected, store, ledger, world.site)


def test_entry_rules_are_the_primes_and_bad_input_names_the_field(
    ledger: Ledger, world: World
) -> None:
    with pytest.raises(NotPermitted):
        ledger.require_entry_checks(world.site, Actor(Role.EMPLOYER, world.sub))
    ledger.require_entry_checks(world.site, Actor(Role.SITE_MANAGER, world.prime))
    with pytest.raises(InvalidState, match="already"):
        ledger.require_entry_checks(world.site, ADMIN)
    with pytest.raises(InvalidValue) as raised:
        InsuranceRecord("enrolled", "exempt", "enrolled", DAY)  # type: ignore[arg-type]
    assert raised.value.field == "exempt_reasons"
    with pytest.raises(InvalidValue) as raised:
        InsuranceRecord("enrolled", "maybe", "enrolled", DAY)  # type: ignore[arg-type]
    assert raised.value.field == "pension"
    with pytest.raises(InvalidState) as unheld:
        ledger.set_qualification_expiry(world.worker, HARNESS, DAY, ADMIN)
    assert unheld.value.field == "qualification"
    with pytest.raises(InvalidValue):
        ledger.set_qualification_expiry(world.worker, SLINGING, date(2019, 4, 30), ADMIN)


def test_a_training_site_needs_the_promotion_fund_as_its_prime(
    ledger: Ledger, world: World
) -> None:
    with pytest.raises(InvalidState) as raised:
        ledger.declare_training_institution(world.site, ADMIN)
    assert raised.value.field == "prime_business_id"
    ledger.settings = ledger.settings.model_copy(
        update={"promotion_fund_business_id": world.prime})
    with pytest.raises(NotPermitted):
        ledger.declare_training_institution(world.site, Actor(Role.PRIME_CONTRACTOR, world.prime))
    ledger.declare_training_institution(world.site, ADMIN)
    assert ledger.site(world.site).training_institution


def test_expiry_alerts_list_the_latest_expiry_within_the_days_per_worker_and_per_site(
    ledger: Ledger, world: World, store: ReadStore
) -> None:
    ledger.require_qualification(world.site, SLINGING, "鉄筋", ADMIN)
    ledger.add_qualification(world.worker, HARNESS, date(2024, 1, 1), ADMIN)
    ledger.set_qualification_expiry(world.worker, SLINGING, DAY + timedelta(days=10), ADMIN)
    ledger.set_qualification_expiry(world.worker, HARNESS, DAY + timedelta(days=31), ADMIN)
    LogFollower(ledger, store).catch_up()
    within = ledger.settings.qualification_alert_days
    assert within == 30
    assert [(a.qualification, a.days_left) for a in worker_expiry_alerts(
        store, world.worker, DAY, within)] == [(SLINGING, 10)]
    assert [(a.qualification, a.days_left) for a in worker_expiry_alerts(
        store, world.worker, DAY + timedelta(days=1), within)] == [(SLINGING, 9), (HARNESS, 30)]
    ledger.set_qualification_expiry(world.worker, SLINGING, DAY + timedelta(days=400), ADMIN)
    ledger.set_qualification_expiry(world.worker, HARNESS, DAY - timedelta(days=2), ADMIN)
    LogFollower(ledger, store).catch_up()
    assert [(a.technician_id, a.qualification, a.days_left, a.required)
            for a in site_expiry_alerts(store, world.site, DAY, within)] == [
        (world.worker, HARNESS, -2, False)]  # renewed slinging gone; expired harness listed
    assert site_expiry_alerts(store, world.other_site, DAY, within) == []


def test_a_work_areas_requirement_flags_taps_at_its_gates_only(
    ledger: Ledger, world: World, store: ReadStore, tmp_path: Path
) -> None:
    """作業区域: a qualification required in a work area applies to taps at the gates that lead
    into it, from the assignment on; the site's other gates are not concerned."""
    prime = Actor(Role.PRIME_CONTRACTOR, world.prime)
    ledger.require_qualification(world.site, HARNESS, "", prime, work_area="鉄骨建方")
    gate = Gate(ledger, world, tmp_path)
    elsewhere = gate.tap(world.card)
    ledger.assign_work_area(world.site, world.reader, "鉄骨建方", prime)
    inside = gate.tap(world.card)
    ledger.assign_work_area(world.site, world.reader, "", prime)  # the gate moved back
    moved = gate.tap(world.card)
    answers = elsewhere + inside + moved
    assert [a[:2] for a in answers] == [
        ("accepted", ()), ("flagged", ("qualification_missing",)), ("accepted", ())]
    same_in_list(answers, store, ledger, world.site)
    ledger.register_reader("GATEX-9", world.other_site, "auto", ADMIN)
    with pytest.raises(UnknownReference) as raised:  # another site's reader
        ledger.assign_work_area(world.site, "GATEX-9", "鉄骨建方", prime)
    assert raised.value.field == "reader_id"


def test_a_required_qualification_acquired_after_the_taps_day_is_missing_on_it(
    ledger: Ledger, world: World, store: ReadStore, tmp_path: Path, now: clock.FixedClock
) -> None:
    ledger.require_qualification(world.site, HARNESS, "", ADMIN)
    ledger.add_qualification(world.worker, HARNESS, DAY + timedelta(days=1), ADMIN)
    gate = Gate(ledger, world, tmp_path)
    before = gate.tap(world.card)  # recorded before the tap, acquired the day after it
    now.at += timedelta(days=1)
    on_the_day = gate.tap(world.card, at=AT + timedelta(days=1))
    assert [a[:2] for a in before + on_the_day] == [
        ("flagged", ("qualification_missing",)), ("accepted", ())]
    same_in_list(before + on_the_day, store, ledger, world.site)
