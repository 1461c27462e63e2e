"""One tap rule, one answer: what an upload is answered (over HTTP and over the reader agent's
in-process transport) is what the site's exceptions list shows once projected, for every flag;
a resent tap ID with other content is kept and answered `conflict`; a tap ID's sequence is a
number. On both databases."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.config import ApiSettings
from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.domain.registry import DirectionMode
from ledger.domain.worker import InsuranceRecord, InsuranceStatus
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.queries.exceptions import site_exceptions, unregistered_readers
from projections.store import ReadStore
from projections.tap_flags import FLAGS
from readers.delivery import TapResult
from readers.identity import CardIdentity
from readers.inprocess import InProcessTransport
from readers.spool import Spool
from readers.uploader import Uploader
from tests.api_support import (  # noqa: F401  (the *_fixture names are fixtures)
    ADMIN,
    Api,
    World,
    api_fixture,
    api_settings_fixture,
    build_world,
    tap,
)

DAY = date(2025, 6, 20)
UNKNOWN_CARD, REVOKED_CARD, LATER_REVOKED = "0FFFFFFF", "0BAD0002", "0BAD0003"
# Every answer with flags (tap ID, position) → (flags, content hash, stored content hash)
Listed = dict[tuple[str, int], tuple[tuple[str, ...], str, str | None]]


@pytest.fixture(autouse=True)
def uploaded_on_time(now: clock.FixedClock) -> None:
    now.at = datetime(2025, 6, 20, 8, 0, tzinfo=clock.JST)  # two minutes after tap()'s time


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadStore]:
    read_store = ReadStore(settings)
    yield read_store
    read_store.close()


def prepare_cards(ledger: Ledger, world: World) -> None:
    ledger.issue_card(REVOKED_CARD, world.worker, ADMIN)
    ledger.revoke_card(REVOKED_CARD, "lost", ADMIN)
    ledger.issue_card(LATER_REVOKED, world.worker, ADMIN)


ENTRY_CARD = "0C0FFEE1"  # the other worker's card: not on the site's roster


def prepare_entry_checks(ledger: Ledger, world: World) -> None:
    """入場時の確認 from here on: the worker's slinging course expired the day before the tap,
    a harness course they lack, employment insurance not enrolled; the other worker, off the
    roster, with no insurance record at all."""
    ledger.require_entry_checks(world.site, ADMIN)
    ledger.require_qualification(world.site, "玉掛技能講習", "鉄筋", ADMIN)
    ledger.require_qualification(world.site, "フルハーネス特別教育", "", ADMIN)
    ledger.set_qualification_expiry(world.worker, "玉掛技能講習", DAY - timedelta(days=1), ADMIN)
    ledger.record_social_insurance(world.worker, InsuranceRecord(
        InsuranceStatus.ENROLLED, InsuranceStatus.ENROLLED, InsuranceStatus.NOT_ENROLLED,
        DAY), ADMIN)
    ledger.issue_card(ENTRY_CARD, world.other_worker, ADMIN)


ENTRY_ANSWERS = [
    ("flagged", ["insurance_not_enrolled", "qualification_missing", "qualification_expired"]),
    ("flagged", ["not_on_roster", "insurance_unconfirmed", "qualification_missing"])]


def project(ledger: Ledger, store: ReadStore) -> None:
    LogFollower(ledger, store).catch_up()


# From before the clock far behind (`tap_flags.CLOCK_BEHIND`) that the tests send.
SINCE = DAY - timedelta(days=5 * 366)


def listed(store: ReadStore, site_id: str) -> Listed:
    rows = site_exceptions(store, site_id, SINCE, DAY + timedelta(days=1))
    rows += [t for r in unregistered_readers(store, DAY - timedelta(days=1),
                                             DAY + timedelta(days=1)) for t in r.taps]
    return {(e.tap_id, e.position): (e.kinds, e.content_hash, e.stored_content_hash)
            for e in rows}


def assert_answers_are_listed(answers: Sequence[dict[str, Any]], exceptions: Listed) -> None:
    """Each stored tap's flags are its exceptions' kinds; a tap with none is not listed."""
    stored = [a for a in answers if a["status"] != "duplicate"]
    assert {(a["tap_id"], a["position"]): tuple(a["flags"]) for a in stored if a["flags"]} == {
        key: kinds for key, (kinds, _, _) in exceptions.items()}
    for answer in stored:
        assert (answer["status"] == "accepted") == (not answer["flags"]), answer
        if answer["status"] == "conflict":
            _, digest, stored_digest = exceptions[(answer["tap_id"], answer["position"])]
            assert stored_digest is not None and stored_digest != digest
            if "content_hash" in answer:  # the HTTP answer carries both hashes
                assert (answer["content_hash"], answer["stored_content_hash"]) == (
                    digest, stored_digest)
    assert {flag for a in stored for flag in a["flags"]} == set(FLAGS)  # every flag is shown


# -- HTTP --------------------------------------------------------------------------------------
@pytest.mark.parametrize("projected_first", [True, False], ids=["registries", "log-tail"])
@pytest.mark.parametrize("api_settings", [ApiSettings(projection=False)])
def test_the_http_answer_is_what_the_exceptions_list_shows_for_every_flag(
    api: Api, store: ReadStore, projected_first: bool, now: clock.FixedClock
) -> None:
    """`log-tail`: the read models have not seen the cards yet, so the registries the taps are
    judged by come from the log; `registries`: from the read models."""
    world = build_world(api.ledger, 1)
    prepare_cards(api.ledger, world)
    if projected_first:
        project(api.ledger, store)
    gate = Actor(Role.READER, world.reader)
    first = api.post("/v1/taps", gate, {"taps": [
        tap(world, 1), tap(world, 2, card_id=UNKNOWN_CARD), tap(world, 3, card_id=REVOKED_CARD),
        tap(world, 4, reader_time="2021-06-20T07:40:00+09:00"),  # over 3 years behind
        tap(world, 5, card_id=LATER_REVOKED)]}).json()["results"]
    api.ledger.revoke_card(LATER_REVOKED, "lost after tap 5", ADMIN)  # tap 5 stays good
    second = api.post("/v1/taps", gate, {"taps": [
        tap(world, 1, direction="out"),  # the same tap ID, other content
        tap(world, 1),  # an exact resend of the first version
        tap(world, 6, card_id=LATER_REVOKED)]}).json()["results"]
    ghost = api.post("/v1/taps", ADMIN, {"taps": [
        tap(world, 1, tap_id="GATE-GHOST:1", reader_id="GATE-GHOST")]}).json()["results"]
    prepare_entry_checks(api.ledger, world)
    entry = api.post("/v1/taps", gate, {"taps": [
        tap(world, 9), tap(world, 10, card_id=ENTRY_CARD)]}).json()["results"]
    assert [(a["status"], a["flags"]) for a in first + second + ghost + entry] == [
        ("accepted", []), ("flagged", ["unknown_card"]), ("flagged", ["revoked_card"]),
        ("flagged", ["clock_skew"]), ("accepted", []),
        ("conflict", ["conflict"]), ("duplicate", []), ("flagged", ["revoked_card"]),
        ("flagged", ["unregistered_reader"]), *ENTRY_ANSWERS]
    project(api.ledger, store)
    assert_answers_are_listed(first + second + ghost + entry, listed(store, world.site))


@pytest.mark.parametrize("api_settings", [ApiSettings(projection=False)])
def test_a_resend_with_other_content_is_kept_as_a_conflict_and_never_dropped(
    api: Api, store: ReadStore
) -> None:
    world = build_world(api.ledger, 1)
    gate = Actor(Role.READER, world.reader)
    [original] = api.post("/v1/taps", gate, {"taps": [tap(world, 7)]}).json()["results"]
    other = tap(world, 7, reader_time="2025-06-20T07:59:00+09:00")
    conflict, again, first_again = api.post(
        "/v1/taps", gate, {"taps": [other, other, tap(world, 7)]}).json()["results"]
    assert (original["status"], conflict["status"], again["status"], first_again["status"]) == (
        "accepted", "conflict", "duplicate", "duplicate")
    assert conflict["position"] > original["position"]
    assert len(conflict["content_hash"]) == len(conflict["stored_content_hash"]) == 64
    [resent] = api.post("/v1/taps", gate, {"taps": [other]}).json()["results"]
    assert resent["status"] == "duplicate"  # that version is stored already
    versions = [(type(e).__qualname__, vars(e)["reader_time"]) for _, e in api.ledger.iter_log()
                if vars(e).get("tap_id") == f"{world.reader}:7"]
    assert [(name, at.astimezone(clock.JST).minute) for name, at in versions] == [
        ("Tap.Recorded", 58), ("Tap.ConflictingObservation", 59)]
    project(api.ledger, store)
    assert listed(store, world.site) == {(f"{world.reader}:7", conflict["position"]): (
        ("conflict",), conflict["content_hash"], conflict["stored_content_hash"])}
    with store.read() as tx:  # the conflicting version makes no tap fact, so no work record
        facts = tx.execute("SELECT tap_id, position FROM {tap_facts}")
    assert facts == [(f"{world.reader}:7", original["position"])]


@pytest.mark.parametrize("api_settings", [ApiSettings(projection=False)])
def test_two_versions_within_one_batch_are_one_tap_and_one_conflict(api: Api) -> None:
    world = build_world(api.ledger, 1)
    gate = Actor(Role.READER, world.reader)
    results = api.post("/v1/taps", gate, {"taps": [
        tap(world, 8), tap(world, 8, direction="out")]}).json()["results"]
    assert [r["status"] for r in results] == ["accepted", "conflict"]


@pytest.mark.parametrize("api_settings", [ApiSettings(projection=False)])
def test_a_padded_sequence_is_the_same_tap(api: Api) -> None:
    world = build_world(api.ledger, 1)
    gate = Actor(Role.READER, world.reader)
    padded = api.post("/v1/taps", gate, {"taps": [
        tap(world, 0, tap_id=f"{world.reader}:0000007")]}).json()["results"]
    plain = api.post("/v1/taps", gate, {"taps": [tap(world, 7)]}).json()["results"]
    assert [(r["tap_id"], r["status"]) for r in padded + plain] == [
        (f"{world.reader}:7", "accepted"), (f"{world.reader}:7", "duplicate")]
    stored = [vars(e)["tap_id"] for _, e in api.ledger.iter_log()
              if type(e).__qualname__.startswith("Tap.")]
    assert stored == [f"{world.reader}:7"]  # stored in its canonical form
    [bad] = api.post("/v1/taps", gate, {"taps": [
        tap(world, 0, tap_id=f"{world.reader}:seven")]}).json()["results"]
    assert bad["status"] == "rejected" and bad["reason"].startswith("tap_id: ")


# -- in-process --------------------------------------------------------------------------------
def spooled(path: Path, reader_id: str, taps: Sequence[tuple[str, datetime]]) -> Spool:
    spool = Spool(path, reader_id, first_sequence=1)
    spool.record_all([(CardIdentity(card_id=card), at) for card, at in taps],
                     DirectionMode.AUTO, timedelta(seconds=0))
    return spool


def as_answers(results: Sequence[TapResult]) -> list[dict[str, Any]]:
    return [{"tap_id": r.tap_id, "status": r.status, "flags": list(r.flags),
             "position": r.position} for r in results]


def test_the_in_process_answer_is_what_the_exceptions_list_shows_for_every_flag(
    ledger: Ledger, store: ReadStore, tmp_path: Path
) -> None:
    world = build_world(ledger, 1)
    prepare_cards(ledger, world)
    at = datetime(2025, 6, 20, 7, 58, tzinfo=clock.JST)
    gate = InProcessTransport(ledger, world.reader)
    first = spooled(tmp_path / "first.db", world.reader, [
        (world.card, at), (UNKNOWN_CARD, at), (REVOKED_CARD, at),
        (world.card, at - timedelta(days=4 * 366))])
    answers = as_answers(gate.send(first.pending(10)).results)
    # a replaced spool reuses sequence 1 for another card: a conflict
    replaced = spooled(tmp_path / "replaced.db", world.reader, [(LATER_REVOKED, at)])
    answers += as_answers(gate.send(replaced.pending(10)).results)
    ghost = spooled(tmp_path / "ghost.db", "GATE-GHOST", [(world.card, at)])
    # as over HTTP, a reader that is not registered appends nothing with its own key; an
    # import as admin stores its taps, flagged
    answers += as_answers(InProcessTransport(ledger, "GATE-GHOST", ADMIN).send(
        ghost.pending(1)).results)
    prepare_entry_checks(ledger, world)
    checked = Spool(tmp_path / "checked.db", world.reader, first_sequence=9)
    checked.record_all([(CardIdentity(card_id=c), at) for c in (world.card, ENTRY_CARD)],
                       DirectionMode.AUTO, timedelta(seconds=0))
    answers += as_answers(gate.send(checked.pending(10)).results)
    assert [(a["status"], a["flags"]) for a in answers] == [
        ("accepted", []), ("flagged", ["unknown_card"]), ("flagged", ["revoked_card"]),
        ("flagged", ["clock_skew"]), ("conflict", ["conflict"]),
        ("flagged", ["unregistered_reader"]), *ENTRY_ANSWERS]
    project(ledger, store)
    assert_answers_are_listed(answers, listed(store, world.site))


def test_the_uploader_settles_a_conflict_as_delivered_and_says_so(
    ledger: Ledger, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(ledger, 1)
    at = datetime(2025, 6, 20, 7, 58, tzinfo=clock.JST)
    transport = InProcessTransport(ledger, world.reader)
    Uploader(spooled(tmp_path / "old.db", world.reader, [(world.card, at)]),
             transport).run(until_drained=True)
    replaced = spooled(tmp_path / "new.db", world.reader, [(world.card, at + timedelta(minutes=1))])
    Uploader(replaced, transport).run(until_drained=True)  # returns: nothing left to retry
    status = replaced.status()
    assert (status.pending, status.dead, status.delivered) == (0, 0, 1)
    with sqlite3.connect(tmp_path / "new.db") as db:
        assert db.execute("SELECT server_status, flags FROM taps").fetchall() == [
            ("conflict", "conflict")]
    assert any("CONFLICT" in record.message and f"{world.reader}:1" in record.message
               for record in caplog.records)
