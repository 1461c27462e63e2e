"""Taps stored before the compact layout keep their bytes (tagged JSON, the class's full topic) and
read as they always did: a log holding both forms decodes, projects and seals as a log holding
the same taps in the compact layout only. Both databases, plain and encrypted."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import Mapper

from ledger import tap_codec
from ledger.actors import SYSTEM
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.taps import Tap, TapObservation
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from ledger.storage.tap_events import unsealed
from projections import decoding
from projections.jobs.seal import seal_days
from projections.jobs.seal_proofs import prove_events
from projections.jobs.seal_verify import verify_seals
from projections.read_model_check import NOT_READ_MODEL_PATTERN, NOT_READ_MODELS
from tests import pg
from tests.integration.jobs_world import CARDS, READERS, SITE, T1, T2, World, jst

D18, D19 = date(2025, 6, 18), date(2025, 6, 19)
LIBRARY_TOPIC = "ledger.domain.taps:Tap.Recorded"
DAY = [(T1, "in", 8), (T2, "in", 8), (T1, "out", 17), (T2, "out", 18)]


@pytest.fixture
def twin_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second database of the same kind."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'twin.db'}"
    else:
        with pg.fresh_database(migrated=True) as url:
            yield url


@pytest.fixture
def worlds(
    database_url: str, twin_url: str, cipher_key: str | None, now: FixedClock, tmp_path: Path
) -> Iterator[tuple[World, World]]:
    """(mixed: the 18th's taps stored as the library's mapper stored them before, the 19th's
    through the ledger; compact: every tap through the ledger), built with the same clock."""
    ledgers = []
    for url, name in ((database_url, "mixed"), (twin_url, "compact")):
        settings = Settings(database_url=url, cipher_key=cipher_key,
                            seal_key_file=tmp_path / name / "seal.pem",
                            witness_dir=tmp_path / name / "witness")
        migrate(settings)
        ledgers.append((Ledger(settings), settings))
    try:
        with World.built(*ledgers[0], now, at=jst(2025, 6, 18, 7), opened_on=D18) as mixed, \
                World.built(*ledgers[1], now, at=jst(2025, 6, 18, 7), opened_on=D18) as compact:
            for day in (D18, D19):
                for technician, direction, hour in DAY:
                    at = jst(day.year, day.month, day.day, hour)
                    if day == D18:
                        stored_as_before(mixed, CARDS[technician], direction, at)
                    else:
                        mixed.tap(SITE, CARDS[technician], direction, at)
                    compact.tap(SITE, CARDS[technician], direction, at)
            yield mixed, compact
    finally:
        for ledger, _ in ledgers:
            ledger.close()


def stored_as_before(world: World, card: str, direction: str, at: datetime) -> None:
    """What `World.tap` records, stored as the library's mapper stored every tap before the
    compact layout (written straight to the log: the ledger no longer writes this form)."""
    world.clock.at = max(world.clock.at, at + timedelta(seconds=30))
    reader = READERS[SITE]
    observation = TapObservation(f"{reader}:{next(world.sequence)}", reader, direction, at,
                                 card_id=card)
    event = Tap.recorded_event(observation, world.clock.now(), SYSTEM)
    world.ledger.recorder.insert_events([Mapper.to_stored_event(world.ledger.mapper, event)])


def tap_rows(world: World) -> list[tuple[int, str, bytes]]:
    """(position, topic, plain state) of every tap in the log."""
    rows = world.ledger.recorder.select_notifications(start=1, limit=1000)
    return [(n.id, n.topic, unsealed(world.ledger.mapper, n.state)) for n in rows
            if n.topic in decoding.TAP_RECORDED_TOPICS]


def read_models(settings: Settings) -> dict[str, list[str]]:
    """Every read-model table's rows (as text, sorted)."""
    if settings.is_postgres:
        with psycopg.connect(settings.database_url) as conn:
            names = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            tables = {n: conn.execute(f'SELECT * FROM "{n}"').fetchall() for n in names
                      if is_read_model(n)}
    else:
        with sqlite3.connect(settings.sqlite_path) as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                                "WHERE type = 'table'")]
            tables = {n: conn.execute(f'SELECT * FROM "{n}"').fetchall() for n in names
                      if is_read_model(n)}
    return {name: sorted(map(repr, rows)) for name, rows in tables.items()}


def is_read_model(table: str) -> bool:
    return table not in NOT_READ_MODELS and not NOT_READ_MODEL_PATTERN.search(table)


def test_an_old_and_a_new_tap_decode_to_the_same_event(worlds: tuple[World, World]) -> None:
    mixed, compact = worlds
    forms = [(topic, tap_codec.is_compact(plain)) for _, topic, plain in tap_rows(mixed)]
    assert forms == [(LIBRARY_TOPIC, False)] * 4 + [("t", True)] * 4  # the log holds both
    assert [(topic, tap_codec.is_compact(plain)) for _, topic, plain in tap_rows(compact)] == [
        ("t", True)] * 8
    sizes = [len(plain) for _, _, plain in tap_rows(mixed)]
    assert min(sizes[:4]) > 4 * max(sizes[4:])

    logs = [w.ledger.recorder.select_notifications(start=1, limit=1000) for w in worlds]
    assert [n.id for n in logs[0]] == [n.id for n in logs[1]]
    assert decoding.decode(mixed.ledger.mapper, logs[0]) == decoding.decode(
        compact.ledger.mapper, logs[1])  # what the projection reads
    for ours, theirs in zip(logs[0], logs[1], strict=True):
        event = mixed.ledger.mapper.to_domain_event(ours)  # the library's way, upcasts and all
        assert type(event) is type(compact.ledger.mapper.to_domain_event(theirs))
        assert vars(event) == vars(compact.ledger.mapper.to_domain_event(theirs))


def test_a_resend_of_an_old_tap_is_a_duplicate_or_a_conflict_as_of_a_new_one(
    worlds: tuple[World, World],
) -> None:
    reader, at = READERS[SITE], jst(2025, 6, 18, 8)
    stored_second = TapObservation(f"{reader}:2", reader, "in", at, card_id=CARDS[T2])
    resent = [TapObservation(f"{reader}:1", reader, "in", at, card_id=CARDS[T1]),  # as stored
              TapObservation(f"{reader}:2", reader, "out", at, card_id=CARDS[T2])]  # changed
    mixed, compact = (w.ledger.record_taps(resent, SYSTEM) for w in worlds)
    assert [r.status for r in mixed] == ["duplicate", "conflict"]
    assert mixed[1].stored_content_hash == stored_second.content_hash  # read from the JSON
    assert mixed == compact


def test_both_forms_project_and_seal_alike(worlds: tuple[World, World]) -> None:
    for world in worlds:
        world.catch_up()
    mixed_models, compact_models = (read_models(w.settings) for w in worlds)
    assert mixed_models == compact_models
    assert len(mixed_models["work_records"]) == 4  # two workers, two days
    assert len(mixed_models["tap_facts"]) == 8

    for world in worlds:  # a seal over both forms verifies, and proves each tap
        world.clock.at = jst(2025, 6, 20, 3)
        assert seal_days(world.ledger, world.store, D19, SYSTEM)["sealed"] == 1
        result = verify_seals(world.ledger, world.store)
        assert result.ok, (result.first_mismatch, result.problems)
    positions = [p for p, _, _ in tap_rows(worlds[0])]
    contents: list[list[dict[str, Any]]] = []
    for world in worlds:
        proofs, heads = prove_events(world.ledger, world.store, positions)
        for position in positions:
            proofs[position].verify(heads[proofs[position].day])
        contents.append([proofs[p].content() for p in positions])
    assert contents[0] == contents[1]  # what a proof shows of a tap, whichever its form
    assert [c["direction"] for c in contents[0][:4]] == ["in", "in", "out", "out"]
