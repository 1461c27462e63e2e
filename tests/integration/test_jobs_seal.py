"""Daily seals on SQLite and PostgreSQL: a SHA-256 chain over the stored rows, and `verify`
finding the first event changed directly in the database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from typing import Any

import cbor2
import psycopg
import pytest
from typer.testing import CliRunner

from api.cli import common
from api.cli import jobs as jobs_cli  # noqa: F401  (registers its commands)
from ledger.actors import SYSTEM
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.settlement import DailySeal, daily_seal_id
from ledger.errors import InvalidState
from ledger.settings import Settings, get_settings
from ledger.storage.tap_events import sealed, unsealed
from projections.jobs.seal import seal_days
from projections.jobs.seal_verify import Mismatch, verify_seals
from tests.integration.jobs_world import CARDS, SITE, T1, World, jst

D18, D19, D20, D21 = (date(2025, 6, d) for d in (18, 19, 20, 21))


@pytest.fixture
def world(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    with World.built(ledger, settings, now, at=jst(2025, 6, 18, 9),
                     opened_on=date(2025, 6, 1)) as built:
        yield built


def seal(world: World, through: date) -> dict[str, Any]:
    return seal_days(world.ledger, world.store, through, SYSTEM)


def stored_seal(world: World, day: date) -> DailySeal:
    found: object = world.ledger.repository.get(daily_seal_id(day))
    assert isinstance(found, DailySeal)
    return found


def execute(settings: Settings, sqlite_sql: str, postgres_sql: str, params: list[Any]) -> None:
    """Change the event table behind the ledger's back, as an intruder with SQL access would."""
    if settings.is_postgres:
        with psycopg.connect(settings.database_url) as conn:
            conn.execute(postgres_sql, params)
    else:
        with sqlite3.connect(settings.sqlite_path) as conn:
            conn.execute(sqlite_sql, params)


def tamper_state(settings: Settings, position: int, old: bytes, new: bytes) -> None:
    execute(settings,
            "UPDATE stored_events SET state = CAST(replace(state, ?, ?) AS BLOB) WHERE rowid = ?",
            "UPDATE ledger_events SET state = overlay(state placing %s from position(%s in state)"
            " for length(%s)) WHERE notification_id = %s",
            [old, new, position] if not settings.is_postgres else [new, old, old, position])


def tamper_direction(world: World, position: int) -> None:
    """Turn a stored tap's "in" into "out" in its compact layout (`ledger.tap_codec`, item 8):
    the row still decodes, to another tap."""
    [row] = world.ledger.recorder.select_notifications(position, 1)
    items = cbor2.loads(unsealed(world.ledger.mapper, row.state))
    assert items[8] == 0, items
    items[8] = 1
    execute(world.settings, "UPDATE stored_events SET state = ? WHERE rowid = ?",
            "UPDATE ledger_events SET state = %s WHERE notification_id = %s",
            [sealed(world.ledger.mapper, cbor2.dumps(items)), position])


def two_sealed_days(world: World) -> tuple[int, int]:
    """Taps on the 18th and 19th, each day sealed the night after; the positions of one tap of
    each day."""
    first = world.tap(SITE, CARDS[T1], "in", jst(2025, 6, 18, 10))
    world.clock.at = jst(2025, 6, 19, 3)
    seal(world, D18)
    second = world.tap(SITE, CARDS[T1], "in", jst(2025, 6, 19, 8))
    world.tap(SITE, CARDS[T1], "out", jst(2025, 6, 19, 17))
    world.clock.at = jst(2025, 6, 20, 3)
    seal(world, D19)
    return first, second


def test_each_seal_chains_to_the_previous_one_and_covers_every_event_once(world: World) -> None:
    two_sealed_days(world)
    s18, s19 = stored_seal(world, D18), stored_seal(world, D19)

    assert s18.first_position == 0 and s18.previous_hash == "0" * 64
    assert s19.previous_hash == s18.seal_hash
    assert s19.first_position == s18.last_position
    # 19th: two taps, the 18th's own seal and the first seal key's statement (both recorded
    # at 03:00 on the 19th, in the seal's transaction)
    assert s19.event_count == 4 and s19.last_position == s18.last_position + 4
    assert s18.event_count == s18.last_position  # the 18th: everything before, the genesis
    result = verify_seals(world.ledger, world.store)
    assert result.ok, result.first_mismatch
    assert (result.seals_checked, result.events_checked) == (2, s19.last_position)
    assert result.unsealed_events == 1  # the 19th's seal itself, until the 20th is sealed


def test_missed_days_are_sealed_in_one_pass_and_a_day_ends_at_midnight_jst(world: World) -> None:
    two_sealed_days(world)
    world.tap(SITE, CARDS[T1], "in", jst(2025, 6, 21, 23, 59))
    late = world.tap(SITE, CARDS[T1], "out", jst(2025, 6, 22, 0, 1))
    world.clock.at = jst(2025, 6, 22, 3)

    assert seal(world, D21) == {"sealed": 2, "events": 2, "last_sealed_day": "2025-06-21",
                                "witnessed": 2}  # two new head files

    s20, s21 = stored_seal(world, D20), stored_seal(world, D21)
    assert s20.event_count == 1  # the 19th's seal
    assert s21.previous_hash == s20.seal_hash and s21.event_count == 1
    assert s21.last_position == late - 1  # the tap received after midnight waits for the 22nd
    assert seal(world, D21)["sealed"] == 0
    assert verify_seals(world.ledger, world.store).ok


def first_mismatch(world: World, from_day: date | None = None) -> Mismatch:
    result = verify_seals(world.ledger, world.store, from_day)
    assert not result.ok and result.first_mismatch is not None
    return result.first_mismatch


def test_verify_names_the_first_event_whose_stored_bytes_changed(world: World) -> None:
    _, second = two_sealed_days(world)
    tamper_direction(world, second)

    result = verify_seals(world.ledger, world.store)

    assert not result.ok and result.first_mismatch is not None
    assert (result.first_mismatch.position, result.first_mismatch.day) == (second, D19)
    assert result.first_mismatch.topic == "t"  # Tap.Recorded's short topic
    assert first_mismatch(world, from_day=D19).position == second


def test_an_earlier_change_is_reported_first_and_from_skips_it(world: World) -> None:
    first, second = two_sealed_days(world)
    for position in (first, second):
        tamper_direction(world, position)
    assert first_mismatch(world).position == first
    assert first_mismatch(world, from_day=D19).position == second


def test_a_changed_seal_or_a_deleted_event_is_found(world: World) -> None:
    _, second = two_sealed_days(world)
    s18 = stored_seal(world, D18)
    execute(world.settings, "DELETE FROM stored_events WHERE rowid = ?",
            "DELETE FROM ledger_events WHERE notification_id = %s", [second])
    result = verify_seals(world.ledger, world.store)
    assert result.first_mismatch is not None and result.first_mismatch.day == D19
    assert result.first_mismatch.position == second + 1  # what now stands where it stood

    forged = s18.seal_hash[:-1] + ("0" if s18.seal_hash[-1] != "0" else "1")
    seal_row = s18.last_position + 1
    tamper_state(world.settings, seal_row, s18.seal_hash.encode(), forged.encode())
    result = verify_seals(world.ledger, world.store)
    assert result.first_mismatch is not None
    assert (result.first_mismatch.day, result.first_mismatch.position) == (D18, seal_row)


def test_a_day_not_over_cannot_be_sealed(world: World) -> None:
    world.clock.at = jst(2025, 6, 18, 23, 59)
    with pytest.raises(InvalidState) as refused:
        seal(world, D18)
    assert refused.value.rule == "day.not_over"


def test_cli_seal_and_verify(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", world.settings.database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    second = world.tap(SITE, CARDS[T1], "in", jst(2025, 6, 19, 8))
    world.clock.at = jst(2025, 6, 20, 3)

    sealed = runner.invoke(common.app, ["seal", "--date", "2025-06-19"])
    assert sealed.exit_code == 0, sealed.output
    assert "seal 2025-06-19: succeeded — sealed 1" in sealed.output
    ok = runner.invoke(common.app, ["verify"])
    assert ok.exit_code == 0 and "ok: 1 seal(s)" in ok.output

    tamper_direction(world, second)
    broken = runner.invoke(common.app, ["verify", "--from", "2025-06-19"])
    assert broken.exit_code == 1
    assert f"MISMATCH position {second}" in broken.output
    get_settings.cache_clear()
