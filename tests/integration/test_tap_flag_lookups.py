"""The registry lookups that flag a batch's taps (unknown or revoked card, unregistered reader)
must not test every registry row against the batch's IDs. psycopg prepares a statement on its
fifth use; the generic plan of `card_id = ANY($1)` on a registry not analyzed yet scans it and
compares each row with the whole array (the cost it had is in BENCHMARKS.md)."""

from __future__ import annotations

from typing import Any

import orjson
import psycopg

from ledger.settings import Settings
from ledger.storage.migrate import migrate
from ledger.storage.postgres import text_array
from projections import tap_answers
from projections.store import ReadStore, Tx

CARDS = 1_000


class Recording(Tx):
    """A PostgreSQL Tx that answers nothing and keeps the statements it was given."""

    def __init__(self) -> None:
        super().__init__(None, "", sqlite=False)
        self.statements: list[tuple[str, list[Any]]] = []

    def execute(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        self.statements.append((sql.format(card_registry="card_registry",
                                           reader_registry="reader_registry"), list(params)))
        return []


def plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *[node for child in plan.get("Plans", []) for node in plan_nodes(child)]]


def test_a_batchs_card_lookup_does_not_compare_every_card_with_every_id(
    postgres_url: str,
) -> None:
    migrate(Settings(database_url=postgres_url))
    store = ReadStore(Settings(database_url=postgres_url))
    with store.transaction() as tx:  # not analyzed, as a registry the projection just filled
        tx.executemany("INSERT INTO {card_registry} VALUES (%s, %s, 1, NULL)",
                       [(f"{n:08X}", f"{4 * 10**13 + n}") for n in range(CARDS)])
    store.close()
    recording = Recording()
    wanted = [f"{n:08X}" for n in range(0, CARDS, 2)]
    tap_answers._registry_rows(recording, "card_registry", "card_id", "revoked_at_position",
                               wanted)
    [(sql, [ids])] = recording.statements
    assert ids == text_array(wanted)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"PREPARE lookup(text[]) AS {sql.replace('%s', '$1')}")
        conn.execute("SET plan_cache_mode = force_generic_plan")  # as on a prepared statement
        # EXECUTE takes no bound parameters: the IDs go in as a literal.
        with psycopg.ClientCursor(conn) as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) EXECUTE lookup(%s)", [wanted])
            [(explained,)] = cursor.fetchall()
            cursor.execute("EXECUTE lookup(%s)", [wanted])
            assert len(cursor.fetchall()) == CARDS // 2
    plan = (explained if isinstance(explained, list) else orjson.loads(explained))[0]["Plan"]
    filters = [node.get("Filter", "") for node in plan_nodes(plan)]
    assert not any("ANY" in f for f in filters), filters
