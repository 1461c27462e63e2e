"""End to end: a real `ledger serve` on PostgreSQL publishes the signed heads at /v1/seals with no
key; an outside monitor pages them, fetches the public key and a consistency proof, checks them
with no database, and `ledger verify --witness URL` compares the ledger with what was served."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import commands as _commands  # noqa: F401  (registers every command)
from api.cli import common
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.settlement.heads import KeyRing, KeyStatement, SignedHead
from ledger.domain.settlement.proofs import ConsistencyProof
from ledger.settings import Settings, get_settings
from ledger.storage.migrate import migrate
from tests.e2e.test_api_server import (  # noqa: F401  (env_fixture is a fixture)
    client_of,
    env_fixture,
    serving,
)
from tests.integration.jobs_world import World, jst
from tests.integration.test_seal_signatures import D18, D19, D20, three_sealed_days

pytestmark = pytest.mark.slow


@pytest.fixture
def world(postgres_url: str, now: FixedClock) -> Iterator[World]:
    settings = Settings(database_url=postgres_url)
    migrate(settings)
    ledger = Ledger(settings)
    try:
        with World.built(ledger, settings, now, at=jst(2025, 6, 18, 9),
                         opened_on=date(2025, 6, 1)) as built:
            yield built
    finally:
        ledger.close()


def test_a_monitor_reads_and_checks_the_served_heads(
    world: World, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_sealed_days(world, taps_a_day=3)
    with serving(env, tmp_path / "server.log") as server, client_of(server) as client:
        first = client.get("/v1/seals", params={"limit": 2})
        assert first.status_code == 200, first.text
        assert [i["head"]["day"] for i in first.json()["items"]] == [str(D18), str(D19)]
        rest = client.get("/v1/seals", params={"after": first.json()["next_after"]}).json()
        assert [i["head"]["day"] for i in rest["items"]] == [str(D20)] and not rest["next_after"]
        served = [*first.json()["items"], *rest["items"]]
        witness = world.settings.witness_path / "heads"
        for item in served:  # the same bytes' meaning as the witness files
            kept = json.loads((witness / f"{item['head']['day']}.json").read_text())
            assert SignedHead.from_dict(item) == SignedHead.from_dict(kept)
        assert client.get(f"/v1/seals/{D19}").json() == served[1]
        missing = client.get("/v1/seals/2025-07-01")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"

        keys = client.get("/v1/seals/public-key").json()
        statements = [KeyStatement.from_dict(s) for s in keys["statements"]]
        assert keys["key_id"] == statements[-1].key_id == served[0]["head"]["key_id"]
        pem = tmp_path / "seal.pem"
        pem.write_text(keys["public_key_pem"])
        proof = ConsistencyProof.from_dict(
            client.get("/v1/seals/consistency", params={"from": str(D18)}).json())
        ring = KeyRing([base64.b64decode(statements[0].public_key)], statements)
        assert "extends" in proof.verify(ring, SignedHead.from_dict(served[0]))

        monkeypatch.setenv("LEDGER_DATABASE_URL", world.settings.database_url)
        get_settings.cache_clear()
        try:
            verified = CliRunner().invoke(common.app, ["verify", "--witness", server.url,
                                                       "--public-key", str(pem)])
        finally:
            get_settings.cache_clear()
        assert verified.exit_code == 0, verified.output
        assert f"witness {server.url}: 3 signed head(s) compared" in verified.output
