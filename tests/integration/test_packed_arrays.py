"""The tap insert binds its four arrays packed by hand in PostgreSQL's binary format: the server
must read back exactly the values psycopg's own list dumper would have sent."""

from __future__ import annotations

from uuid import UUID, uuid4

import psycopg

from ledger.storage.postgres import bigint_array, bytea_array, text_array, uuid_array

UUIDS = [uuid4(), UUID(int=0), UUID(int=2**128 - 1)]
BIGINTS = [1, 0, -5, 2**63 - 1, -(2**63)]
TEXTS = ["ledger.domain.taps:Tap.Recorded", "", "就業履歴", "a\x01b"]
BYTEAS = [b"", b"\x00\xff\\x", b"{}" * 5_000]


def test_packed_arrays_read_back_as_the_values_packed(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(
            "SELECT %s::uuid[], %s::bigint[], %s::text[], %s::bytea[]",
            (uuid_array(UUIDS), bigint_array(BIGINTS), text_array(TEXTS), bytea_array(BYTEAS)),
        ).fetchone()
        assert row is not None
        assert (row[0], row[1], row[2], [bytes(b) for b in row[3]]) == (
            UUIDS, BIGINTS, TEXTS, BYTEAS)
        ours = conn.execute("SELECT %s::uuid[] = %s::uuid[]",
                            (uuid_array([str(u) for u in UUIDS]), UUIDS)).fetchone()
        assert ours == (True,)


def test_empty_packed_arrays_are_empty(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(
            "SELECT cardinality(%s::uuid[]), cardinality(%s::bytea[])",
            (uuid_array([]), bytea_array([])),
        ).fetchone()
    assert row == (0, 0)
