"""スマホ入場 on both databases: a phone bound by its passkey scans the site's gate code; its taps
are stored, judged by the one tap rule and made into the same record per worker × site × day as
card taps; expired codes, other sites' and forwarded codes are refused; a position outside the
site's area is stored and flagged, never dropped; a phone kept offline sends later within the
bound; the incremental projection equals a rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.clock import JST
from ledger.domain.gate_codes import OFFLINE_BOUND, WINDOW, issue_screen_code
from ledger.domain.geo import Area
from ledger.errors import AlreadyExists, InvalidValue, NotPermitted, UnknownReference
from ledger.phone_entry import b64url
from ledger.settings import Settings
from projections.follower import LogFollower
from projections.queries.attendance import site_attendance
from projections.queries.exceptions import site_exceptions
from projections.records import RecordSource, RecordStatus
from projections.replay import rebuild
from projections.store import ReadStore
from projections.tap_answers import phone_tap_flags
from tests.integration.world import (
    ADMIN,
    EMPLOYER_ADMIN,
    OTHER,
    PRIME,
    PRIME_STAFF,
    SITE,
    TECHNICIAN,
    register_world,
)
from tests.phone_support import ORIGIN, RP_ID, SoftPasskey

DAY = date(2025, 6, 20)
MORNING = datetime(2025, 6, 20, 8, 0, tzinfo=JST)
COLLEAGUE = "12345678901299"
AREA = Area(35.681236, 139.767125, 150.0)
AT_GATE = {"latitude": 35.6813, "longitude": 139.7672, "accuracy": 12.0}
AT_HOME = {"latitude": 35.70, "longitude": 139.80, "accuracy": 10.0}


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadStore]:
    read_store = ReadStore(settings)
    yield read_store
    read_store.close()


@pytest.fixture
def phone(ledger: Ledger, now: clock.FixedClock) -> SoftPasskey:
    now.at = MORNING
    register_world(ledger)
    passkey = SoftPasskey()
    options = ledger.phone_registration_options(TECHNICIAN, RP_ID, EMPLOYER_ADMIN)
    assert ledger.register_phone(TECHNICIAN, passkey.create(options), RP_ID, ORIGIN,
                                 EMPLOYER_ADMIN) == passkey.reader_id
    return passkey


def send(ledger: Ledger, tap: tuple[str, dict[str, Any]], sent_at: datetime) -> Any:
    payload, credential = tap
    return ledger.record_phone_tap(payload, sent_at, credential, RP_ID, ORIGIN)


def project(ledger: Ledger, store: ReadStore) -> None:
    LogFollower(ledger, store).catch_up()


def day_row(store: ReadStore, technician_id: str = TECHNICIAN) -> Any:
    rows = [r for r in site_attendance(store, SITE, DAY).rows if r.technician_id == technician_id]
    return rows[0] if rows else None


def test_an_entry_and_an_exit_make_the_days_phone_record(
    ledger: Ledger, store: ReadStore, phone: SoftPasskey, now: clock.FixedClock
) -> None:
    code = ledger.gate_code(SITE, PRIME_STAFF)
    entry = send(ledger, phone.tap(code, "in", MORNING), MORNING)
    assert (entry.status, entry.site_id, entry.direction, entry.flags) == (
        "accepted", SITE, "in", ())
    now.at = MORNING + timedelta(hours=9)
    evening = ledger.gate_code(SITE, PRIME_STAFF)
    exit_ = send(ledger, phone.tap(evening, "out", now.at), now.at)
    assert exit_.status == "accepted"
    project(ledger, store)
    row = day_row(store)
    assert row.status is RecordStatus.COUNTED and row.source is RecordSource.PHONE
    assert (row.first_entry, row.last_exit) == (MORNING, MORNING + timedelta(hours=9))
    assert row.employer_business_id is not None and not row.flags


def test_a_resend_is_a_duplicate_and_a_forwarded_code_is_refused(
    ledger: Ledger, store: ReadStore, phone: SoftPasskey
) -> None:
    code = ledger.gate_code(SITE, PRIME_STAFF)
    tap = phone.tap(code, "in", MORNING)
    assert send(ledger, tap, MORNING).status == "accepted"
    assert send(ledger, tap, MORNING).status == "duplicate"  # the same signed tap again
    # The same worker's code used again from a second phone (a photo forwarded to it).
    second = SoftPasskey()
    ledger.register_phone(TECHNICIAN, second.create(ledger.phone_registration_options(
        TECHNICIAN, RP_ID, ADMIN)), RP_ID, ORIGIN, ADMIN)
    with pytest.raises(AlreadyExists) as error:
        send(ledger, second.tap(code, "in", MORNING), MORNING)
    assert error.value.rule == "code.used"
    project(ledger, store)
    assert len(ledger_taps(store)) == 1


def ledger_taps(store: ReadStore) -> list[Any]:
    with store.read() as tx:
        return list(tx.execute("SELECT tap_id, flags FROM {tap_facts}"))


def test_a_request_replayed_from_another_phone_is_refused(
    ledger: Ledger, phone: SoftPasskey
) -> None:
    """A colleague's phone (its own passkey, bound to the colleague) cannot send a tap signed by
    the worker's phone, nor one under the worker's phone's reader ID."""
    ledger.register_worker(COLLEAGUE, "佐藤 次郎", ADMIN)
    ledger.join_employer(COLLEAGUE, OTHER, date(2020, 4, 1), True, ADMIN)
    colleague = SoftPasskey()
    ledger.register_phone(COLLEAGUE, colleague.create(ledger.phone_registration_options(
        COLLEAGUE, RP_ID, Actor(Role.EMPLOYER, OTHER))), RP_ID, ORIGIN,
        Actor(Role.EMPLOYER, OTHER))
    code = ledger.gate_code(SITE, PRIME_STAFF)
    payload, signed = phone.tap(code, "in", MORNING)
    # The worker's signed payload with the colleague's credential: the signature fails.
    forged = {**signed, "id": colleague.sign(payload)["id"],
              "rawId": colleague.sign(payload)["rawId"]}
    with pytest.raises(NotPermitted) as error:
        ledger.record_phone_tap(payload, MORNING, forged, RP_ID, ORIGIN)
    assert error.value.rule == "credential.signature"
    # The colleague's own signature over a tap under the worker's phone's reader ID.
    with pytest.raises(NotPermitted) as error:
        send(ledger, colleague.tap(code, "in", MORNING, reader_id=phone.reader_id), MORNING)
    assert error.value.rule == "tap.reader"
    # A passkey no one registered.
    with pytest.raises(UnknownReference):
        send(ledger, SoftPasskey().tap(code, "in", MORNING), MORNING)


def test_a_revoked_phone_signs_no_more_taps(ledger: Ledger, phone: SoftPasskey) -> None:
    credential_id = b64url(phone.credential_id)
    with pytest.raises(UnknownReference):  # not the worker's employer: as if absent
        ledger.revoke_phone(credential_id, "紛失", Actor(Role.EMPLOYER, OTHER))
    ledger.revoke_phone(credential_id, "紛失", EMPLOYER_ADMIN)
    with pytest.raises(NotPermitted) as error:
        send(ledger, phone.tap(ledger.gate_code(SITE, PRIME_STAFF), "in", MORNING), MORNING)
    assert error.value.rule == "phone.revoked"


def test_a_code_past_its_window_or_of_another_key_is_refused(
    ledger: Ledger, store: ReadStore, phone: SoftPasskey, now: clock.FixedClock
) -> None:
    code = ledger.gate_code(SITE, PRIME_STAFF)
    later = MORNING + WINDOW + timedelta(seconds=30)
    now.at = later
    with pytest.raises(InvalidValue) as error:
        send(ledger, phone.tap(code, "in", later), later)  # a screenshot scanned later
    assert error.value.rule == "code.expired"
    forged = issue_screen_code(bytes(32), SITE, later)
    with pytest.raises(InvalidValue) as error:
        send(ledger, phone.tap(forged, "in", later), later)
    assert error.value.rule == "code.signature"
    project(ledger, store)
    assert ledger_taps(store) == []  # nothing refused is stored


def test_an_offline_phone_sends_later_within_the_bound(
    ledger: Ledger, store: ReadStore, phone: SoftPasskey, now: clock.FixedClock
) -> None:
    code = ledger.gate_code(SITE, PRIME_STAFF)
    skew = timedelta(minutes=4)  # the phone's clock is 4 minutes fast
    tap = phone.tap(code, "in", MORNING + skew)
    now.at = MORNING + timedelta(hours=30)
    receipt = send(ledger, tap, now.at + skew)
    assert receipt.status == "accepted"
    project(ledger, store)
    assert day_row(store).first_entry == MORNING  # on the server's clock
    stale = phone.tap(code, "in", MORNING)
    now.at = MORNING + OFFLINE_BOUND + timedelta(minutes=1)
    with pytest.raises(InvalidValue) as error:
        send(ledger, stale, now.at)
    assert error.value.rule == "scanned_at.offline_bound"


def test_a_position_outside_the_area_or_none_is_stored_and_flagged(
    ledger: Ledger, store: ReadStore, phone: SoftPasskey, now: clock.FixedClock
) -> None:
    ledger.set_site_area(SITE, AREA, PRIME_STAFF)
    code = ledger.gate_code(SITE, PRIME_STAFF)
    home = send(ledger, phone.tap(code, "in", MORNING, AT_HOME), MORNING)
    assert (home.status, home.flags) == ("accepted", ("outside_area",))
    now.at = MORNING + timedelta(hours=9)
    blind = send(ledger, phone.tap(ledger.gate_code(SITE, PRIME_STAFF), "out", now.at), now.at)
    assert blind.flags == ("no_position",)
    project(ledger, store)
    listed = {e.tap_id: e.kinds for e in site_exceptions(store, SITE, DAY, DAY)}
    assert listed == {home.tap_id: ("outside_area",), blind.tap_id: ("no_position",)}
    assert day_row(store) is None  # stored, listed, not counted
    # At the gate, the next day's taps count.
    now.at = MORNING + timedelta(days=1)
    at_gate = send(ledger, phone.tap(ledger.gate_code(SITE, PRIME_STAFF), "in", now.at,
                                     AT_GATE), now.at)
    assert at_gate.flags == ()


def test_a_printed_code_counts_and_is_marked(
    ledger: Ledger, store: ReadStore, phone: SoftPasskey, now: clock.FixedClock
) -> None:
    printed = ledger.printed_gate_code(SITE, DAY, PRIME_STAFF, "in")
    now.at = MORNING + timedelta(hours=1)
    receipt = send(ledger, phone.tap(printed, "out", now.at), now.at)
    assert (receipt.direction, receipt.flags) == ("in", ("printed_code",))  # the gate's direction
    project(ledger, store)
    assert day_row(store).status is RecordStatus.COUNTED
    assert [e.kinds for e in site_exceptions(store, SITE, DAY, DAY)] == [("printed_code",)]


def test_who_may_show_the_code_and_set_the_area(ledger: Ledger, phone: SoftPasskey) -> None:
    ledger.gate_code(SITE, ADMIN)
    ledger.gate_code(SITE, Actor(Role.READER, "GATE-1"))  # the site's own reader key
    with pytest.raises(NotPermitted):
        ledger.gate_code(SITE, EMPLOYER_ADMIN)  # a subcontractor sees the site, shows no code
    for stranger in (Actor(Role.PRIME_CONTRACTOR, OTHER), Actor(Role.WORKER, TECHNICIAN)):
        with pytest.raises(UnknownReference):  # as if the site were absent
            ledger.gate_code(SITE, stranger)
    with pytest.raises(NotPermitted):
        ledger.set_site_area(SITE, AREA, EMPLOYER_ADMIN)
    with pytest.raises(UnknownReference):
        ledger.set_site_area(SITE, AREA, Actor(Role.PRIME_CONTRACTOR, OTHER))
    # Only the worker's employer or an administrator binds a phone.
    with pytest.raises(NotPermitted):
        ledger.phone_registration_options(TECHNICIAN, RP_ID, Actor(Role.WORKER, TECHNICIAN))
    with pytest.raises((NotPermitted, UnknownReference)):
        ledger.phone_registration_options(TECHNICIAN, RP_ID, Actor(Role.EMPLOYER, OTHER))
    assert PRIME  # the prime's own staff is covered above


def test_the_live_projection_equals_a_rebuild(
    ledger: Ledger, settings: Settings, store: ReadStore, phone: SoftPasskey,
    now: clock.FixedClock
) -> None:
    ledger.set_site_area(SITE, AREA, PRIME_STAFF)
    for hours, direction, position in ((0, "in", AT_GATE), (4, "out", AT_HOME),
                                       (5, "in", None), (9, "out", AT_GATE)):
        now.at = MORNING + timedelta(hours=hours)
        send(ledger, phone.tap(ledger.gate_code(SITE, PRIME_STAFF), direction, now.at,
                               position), now.at)
        project(ledger, store)
    live = snapshot(store)
    rebuild(ledger, settings)
    assert snapshot(store) == live


def snapshot(store: ReadStore) -> dict[str, list[Any]]:
    with store.read() as tx:
        return {table: sorted(map(tuple, tx.execute(f"SELECT * FROM {{{table}}}")), key=repr)
                for table in ("tap_facts", "site_exceptions", "work_records")}


def test_the_phones_answer_is_what_the_exceptions_list_shows_entry_checks_included(
    ledger: Ledger, store: ReadStore, phone: SoftPasskey
) -> None:
    """One rule, one answer, for a phone tap too: at a site that checks entries, a worker with
    no social insurance recorded is flagged (the tap still counts), in the phone's answer and in
    the site's exceptions alike, before and after the projection reaches the tap."""
    ledger.require_entry_checks(SITE, PRIME_STAFF)
    receipt = send(ledger, phone.tap(ledger.gate_code(SITE, PRIME_STAFF), "in", MORNING),
                   MORNING)
    assert receipt.flags == ()  # the phone's own flags: none
    with store.read() as tx:  # the read models have not reached the tap: the log's events
        answered = phone_tap_flags(tx, ledger, receipt.position, receipt.technician_id,
                                   receipt.site_id, receipt.reader_id, receipt.reader_time,
                                   receipt.received_at, receipt.flags)
    assert answered == ("insurance_unconfirmed",)
    project(ledger, store)
    listed = [e for e in site_exceptions(store, SITE, DAY, DAY) if e.tap_id == receipt.tap_id]
    assert [tuple(e.kinds) for e in listed] == [answered]
    with store.read() as tx:  # and from the read models, once they hold it
        assert phone_tap_flags(tx, ledger, receipt.position, receipt.technician_id,
                               receipt.site_id, receipt.reader_id, receipt.reader_time,
                               receipt.received_at, receipt.flags) == answered
    assert day_row(store).status is RecordStatus.COUNTED
