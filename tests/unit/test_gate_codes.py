"""The site's gate code (スマホ入場): its signature, its window, its site and direction, the
printed day code, the offline bound; and the position check at the area's edge."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ledger.clock import JST
from ledger.domain import gate_codes
from ledger.domain.gate_codes import (
    CODE_SLACK,
    OFFLINE_BOUND,
    STEP,
    WINDOW,
    CodeKind,
    check_code,
    issue_printed_code,
    issue_screen_code,
    read_code,
    scan_moment,
)
from ledger.domain.geo import MAX_ACCURACY_M, Area, Fix, distance_m, position_flag
from ledger.errors import InvalidValue

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
SITE = "10000000000001"
OTHER_SITE = "10000000000002"
T0 = datetime(2025, 6, 20, 8, 0, 0, tzinfo=JST)  # on a STEP boundary


def rule_of(error: pytest.ExceptionInfo[InvalidValue]) -> str:
    return error.value.rule


def test_a_code_reads_back_what_it_was_issued_for() -> None:
    code = read_code(KEY, issue_screen_code(KEY, SITE, T0 + timedelta(seconds=3), "in"))
    assert (code.site_id, code.direction, code.kind) == (SITE, "in", CodeKind.SCREEN)
    assert code.issued_at == T0  # the start of its STEP
    assert code.valid_until == T0 + WINDOW


def test_the_code_is_the_same_within_a_step_and_changes_at_the_next() -> None:
    first = issue_screen_code(KEY, SITE, T0)
    assert issue_screen_code(KEY, SITE, T0 + STEP - timedelta(microseconds=1)) == first
    assert issue_screen_code(KEY, SITE, T0 + STEP) != first


def test_a_code_signed_with_another_key_or_altered_is_refused() -> None:
    token = issue_screen_code(OTHER_KEY, SITE, T0)
    with pytest.raises(InvalidValue) as error:
        read_code(KEY, token)
    assert rule_of(error) == "code.signature"
    body, signature = issue_screen_code(KEY, SITE, T0).split(".")
    forged_body = gate_codes._b64(gate_codes._unb64(body).replace(SITE.encode(),
                                                                    OTHER_SITE.encode()))
    with pytest.raises(InvalidValue) as error:
        read_code(KEY, f"{forged_body}.{signature}")
    assert rule_of(error) == "code.signature"
    for garbage in ("", "abc", "a.b.c", "!!.??"):
        with pytest.raises(InvalidValue) as error:
            read_code(KEY, garbage)
        assert error.value.field == "code"


def test_a_code_is_bound_to_its_site() -> None:
    token = issue_screen_code(KEY, SITE, T0)
    assert check_code(KEY, token, SITE, T0, T0).site_id == SITE
    with pytest.raises(InvalidValue) as error:
        check_code(KEY, token, OTHER_SITE, T0, T0)
    assert rule_of(error) == "code.site"


def test_the_window_at_its_edges() -> None:
    token = issue_screen_code(KEY, SITE, T0)
    last = T0 + WINDOW + CODE_SLACK
    assert check_code(KEY, token, SITE, last, last).kind is CodeKind.SCREEN
    late = last + timedelta(microseconds=1)
    with pytest.raises(InvalidValue) as error:
        check_code(KEY, token, SITE, late, late)
    assert rule_of(error) == "code.expired"
    early = T0 - CODE_SLACK - timedelta(microseconds=1)
    with pytest.raises(InvalidValue) as error:
        check_code(KEY, token, SITE, early, T0)
    assert rule_of(error) == "code.expired"


def test_a_scan_sent_later_is_judged_at_its_scan_and_bounded() -> None:
    token = issue_screen_code(KEY, SITE, T0)
    scanned = T0 + timedelta(seconds=5)
    assert check_code(KEY, token, SITE, scanned, scanned + OFFLINE_BOUND).site_id == SITE
    with pytest.raises(InvalidValue) as error:
        check_code(KEY, token, SITE, scanned,
                   scanned + OFFLINE_BOUND + timedelta(microseconds=1))
    assert rule_of(error) == "scanned_at.offline_bound"


def test_the_scan_moment_is_on_the_servers_clock() -> None:
    received = T0 + timedelta(hours=2)
    phone_clock_wrong_by = timedelta(minutes=7)
    phone_scan = T0 + timedelta(seconds=4) + phone_clock_wrong_by
    phone_send = phone_scan + timedelta(hours=2) - timedelta(seconds=4)
    assert scan_moment(received, phone_scan, phone_send) == T0 + timedelta(seconds=4)
    with pytest.raises(InvalidValue) as error:
        scan_moment(received, phone_send, phone_scan)
    assert rule_of(error) == "scanned_at.order"


def test_a_printed_code_holds_for_its_jst_day_only() -> None:
    day = date(2025, 6, 20)
    token = issue_printed_code(KEY, SITE, day, "out")
    start = datetime(2025, 6, 20, 0, 0, tzinfo=JST)
    code = check_code(KEY, token, SITE, start + timedelta(hours=23), start + timedelta(hours=23))
    assert (code.kind, code.direction) == (CodeKind.PRINTED, "out")
    next_day = start + timedelta(days=1, seconds=10)
    with pytest.raises(InvalidValue) as error:
        check_code(KEY, token, SITE, next_day, next_day)
    assert rule_of(error) == "code.expired"
    # 23:59 UTC of the 19th is 08:59 JST of the 20th: the day is Japan's.
    assert check_code(KEY, token, SITE, datetime(2025, 6, 19, 23, 59, tzinfo=UTC),
                      datetime(2025, 6, 19, 23, 59, tzinfo=UTC)).site_id == SITE


def test_a_code_names_a_valid_site_and_direction() -> None:
    with pytest.raises(InvalidValue) as error:
        issue_screen_code(KEY, "123", T0)
    assert error.value.field == "site_id"
    with pytest.raises(InvalidValue) as error:
        issue_screen_code(KEY, SITE, T0, "sideways")
    assert error.value.field == "direction"


# -- the position check ---------------------------------------------------------------------------
AREA = Area(35.681236, 139.767125, 100.0)  # a 100 m circle


def north_of(area: Area, metres: float) -> tuple[float, float]:
    return area.latitude + metres / 111_194.93, area.longitude  # 1° of latitude on the sphere


def test_distance_on_the_sphere() -> None:
    lat, lon = north_of(AREA, 1000)
    assert distance_m(AREA.latitude, AREA.longitude, lat, lon) == pytest.approx(1000, abs=0.01)


def test_the_area_edge_counts_the_accuracy() -> None:
    inside = north_of(AREA, 99.9)
    assert position_flag(AREA, Fix(*inside, 0)) is None
    outside = north_of(AREA, 100.1)
    assert position_flag(AREA, Fix(*outside, 0)) == "outside_area"
    # 150 m out, with a fix good to 50.2 m: the circles touch; to 49.8 m they do not.
    far = north_of(AREA, 150)
    assert position_flag(AREA, Fix(*far, 50.2)) is None
    assert position_flag(AREA, Fix(*far, 49.8)) == "outside_area"


def test_no_area_no_flag_and_no_position_is_flagged() -> None:
    assert position_flag(None, None) is None
    assert position_flag(None, Fix(0, 0, 5)) is None
    assert position_flag(AREA, None) == "no_position"
    assert position_flag(AREA, Fix(AREA.latitude, AREA.longitude, MAX_ACCURACY_M)) is None
    assert position_flag(AREA, Fix(AREA.latitude, AREA.longitude,
                                   MAX_ACCURACY_M + 0.1)) == "no_position"


@pytest.mark.parametrize(("latitude", "longitude", "accuracy", "field"), [
    (91.0, 0.0, 5.0, "latitude"), (0.0, 181.0, 5.0, "longitude"),
    (float("nan"), 0.0, 5.0, "latitude"), (0.0, 0.0, -1.0, "accuracy_m"),
])
def test_a_fix_out_of_range_is_refused(latitude: float, longitude: float, accuracy: float,
                                       field: str) -> None:
    with pytest.raises(InvalidValue) as error:
        Fix(latitude, longitude, accuracy)
    assert error.value.field == field


def test_an_area_radius_is_bounded() -> None:
    with pytest.raises(InvalidValue) as error:
        Area(35.0, 139.0, 5.0)
    assert error.value.field == "radius_m"
