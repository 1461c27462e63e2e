"""就業日数 by month (`work_day_months`): the migration that adds it fills it from the records a
database already holds, on SQLite and PostgreSQL alike, exactly as the records count."""

from __future__ import annotations

import random
from datetime import date, timedelta

from yoyo import get_backend, read_migrations

from ledger.settings import Settings
from ledger.storage.migrate import migrate, migrations_path, yoyo_url
from projections.store import ReadStore
from tests.integration.projection_support import day_months_of, snapshot

ADDED_BY = "0007_work_day_months"


def migrate_before(settings: Settings, migration_id: str) -> None:
    backend = get_backend(yoyo_url(settings))
    try:
        migrations = read_migrations(str(migrations_path(settings)))
        with backend.lock():
            earlier = migrations.filter(lambda m: m.id < migration_id)
            backend.apply_migrations(backend.to_apply(earlier))
    finally:
        backend.connection.close()


def test_the_migration_fills_the_days_from_the_records_there_are(database_url: str) -> None:
    settings = Settings(database_url=database_url)
    migrate_before(settings, ADDED_BY)
    rng = random.Random(7)
    rows = [
        (worker, site, date(2024, 1, 1) + timedelta(days=offset), rng.choice(("200", None)),
         rng.choice(("鉄筋", "とび", None)), rng.choice(("counted", "counted", "pending",
                                                        "rejected")))
        for worker in ("30000000000001", "30000000000002")
        for offset in range(0, 200, 2)
        for site in rng.sample(["10000000000001", "10000000000002"], rng.choice((1, 1, 2)))
    ]
    store = ReadStore(settings)
    try:
        with store.transaction() as tx:
            tx.executemany(
                "INSERT INTO {work_records} (technician_id, site_id, work_date, "
                "employer_business_id, trade, source, status, flags, event_positions) "
                "VALUES (%s, %s, %s, %s, %s, 'card', %s, '[]', '[]')", rows)
        assert migrate(settings)[0] == ADDED_BY  # and those after it
        tables = snapshot(store)
    finally:
        store.close()
    expected = day_months_of(tables["work_records"])
    assert len(expected) > 20 and any(bits & (bits - 1) for *_, bits in expected)
    assert tables["work_day_months"] == expected
