"""End to end: a career proof read from `ledger serve` (a real uvicorn process on 127.0.0.1) over
HTTP, saved as a file and checked by `ledger verify-proof` with no database; who may not read it
is answered as for an absent worker. The career is recorded in-process with the ledger's clock
in June 2025 and sealed; the server (its scheduler off, so it seals nothing more) only reads."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

from ledger.actors import Role
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.settlement.heads import public_key_bytes
from ledger.settings import Settings
from ledger.storage import seal_key
from ledger.storage.keys import KeyStore
from ledger.storage.migrate import migrate
from tests.e2e.test_api_server import LEDGER, bearer, client_of, serving
from tests.integration.jobs_world import PRIME, T1, T2, World, jst
from tests.integration.test_career_proof import career

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(database_url: str, cipher_key: str | None) -> Settings:
    settings = Settings(database_url=database_url, cipher_key=cipher_key)
    migrate(settings)
    return settings


def test_a_served_career_proof_verifies_offline(
    settings: Settings, ledger: Ledger, now: FixedClock, tmp_path: Path
) -> None:
    with World.built(ledger, settings, now, at=jst(2025, 6, 15, 7)) as world:
        career(world)
    keys = KeyStore(settings)
    tokens = {name: keys.create(role, subject).token for name, role, subject in (
        ("worker", Role.WORKER, T1), ("other_worker", Role.WORKER, T2),
        ("prime", Role.PRIME_CONTRACTOR, PRIME))}
    keys.close()
    env = {**os.environ, "LEDGER_DATABASE_URL": settings.database_url,
           "LEDGER_API_SCHEDULER": "false", "COLUMNS": "200"}
    if settings.cipher_key:
        env["LEDGER_CIPHER_KEY"] = settings.cipher_key
    path = f"/v1/workers/{T1}/career-proof"
    query = {"trade": "鉄筋", "date_to": "2025-06-20"}
    with serving(env, tmp_path / "server.log") as server, client_of(server) as client:
        answer = client.get(path, params=query, headers=bearer(tokens["worker"]))
        assert answer.status_code == 200, answer.text
        hidden = client.get(path, params=query, headers=bearer(tokens["other_worker"]))
        absent = client.get("/v1/workers/99999999999999/career-proof", params=query,
                            headers=bearer(tokens["other_worker"]))
        refused = client.get(path, params=query, headers=bearer(tokens["prime"]))
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json() | {"detail": ""} == absent.json() | {"detail": ""}
    assert refused.status_code == 403  # a prime reads no whole career, whatever exists
    statement = answer.json()["statement"]
    assert (len(statement["records"]), len(statement["left_out"])) == (5, 2)
    proof = tmp_path / "proof.json"
    proof.write_bytes(answer.content)
    public = tmp_path / "seal.pub"
    public.write_text(base64.b64encode(public_key_bytes(
        seal_key.load(settings.seal_key_path))).decode())
    offline = {**env, "LEDGER_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"}
    checked = subprocess.run([*LEDGER, "verify-proof", str(proof), "--public-key", str(public)],
                             env=offline, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert f"ok: career proof of worker {T1}" in checked.stdout
