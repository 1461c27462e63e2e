"""経歴証明 on SQLite and PostgreSQL, plain and encrypted: the signed statement agrees with level
judgment, proves each counted record's events to signed daily heads, leaves out what no seal
covers (and says so), and any change to a number, record, event proof, head or signature fails
the offline check naming what failed; `ledger verify-proof` runs with no database."""

from __future__ import annotations

import base64
import copy
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import cbor2
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.career_proof_html import extract, render
from ledger.actors import SYSTEM, Actor, Role
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.settlement.career_proof import (
    CareerProof,
    CareerProofError,
    verify,
)
from ledger.domain.settlement.heads import (
    b64,
    canonical,
    key_id_of,
    public_key_bytes,
)
from ledger.domain.worker import CertificateClaim, CertifierRelation
from ledger.errors import InvalidState, InvalidValue
from ledger.settings import Settings
from ledger.storage import seal_key
from ledger.storage.migrate import migrate
from projections.jobs.seal import rotate_seal_key, seal_days
from projections.queries.career_proof import build_career_proof, signing_key
from projections.queries.levels import level_judgments
from tests.integration.jobs_world import ADMIN, PRIME, SITE, SITE_B, SUB, T1, World, jst

D15, D16, D17, D18, D19, D20 = (date(2025, 6, d) for d in range(15, 21))


@pytest.fixture
def settings(database_url: str, cipher_key: str | None) -> Settings:
    settings = Settings(database_url=database_url, cipher_key=cipher_key)
    migrate(settings)
    return settings


@pytest.fixture
def world(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    with World.built(ledger, settings, now, at=jst(2025, 6, 15, 7),
                     opened_on=date(2025, 6, 1)) as built:
        yield built


def career(world: World) -> None:
    """T1 (鉄筋, employed by SUB): 一般 on the 16th, 職長 at SITE from the 17th, 班長 at SITE_B
    from the 18th (the 18th at both: one 職長 day, two records), SITE_B on the 19th; sealed
    through the 19th. Then the 20th at SITE, and a manual entry for the 15th approved on the
    20th: both counted, neither provable yet. A 経歴証明 of SUB for 2021."""
    ledger = world.ledger
    world.work(SITE, T1, D16)
    ledger.set_roster_entry(SITE, T1, SUB, "鉄筋", "職長", D17, ADMIN)
    world.work(SITE, T1, D17)
    ledger.set_roster_entry(SITE_B, T1, SUB, "鉄筋", "班長", D18, ADMIN)
    world.work(SITE, T1, D18)
    world.work(SITE_B, T1, D18, start=18, end=20)
    world.work(SITE_B, T1, D19)
    ledger.add_qualification(T1, "玉掛技能講習", date(2019, 5, 1), ADMIN)
    ledger.certify_career(T1, CertificateClaim(SUB, CertifierRelation.EMPLOYER, "鉄筋",
                                               date(2021, 4, 1), date(2022, 3, 31), 200, 30, 20),
                          Actor(Role.EMPLOYER, SUB))
    world.clock.at = jst(2025, 6, 20, 3)
    assert seal_days(ledger, world.store, D19, SYSTEM)["sealed"] == 1
    world.work(SITE, T1, D20)
    entry = ledger.request_manual_entry(T1, SITE_B, D15, SUB, "鉄筋", "一般", "配筋",
                                        Actor(Role.WORKER, T1), entry_at=jst(2025, 6, 15, 8),
                                        exit_at=jst(2025, 6, 15, 17))
    ledger.approve(entry, Actor(Role.PRIME_CONTRACTOR, PRIME))
    world.catch_up()


def proof_of(world: World, date_to: date | None = D20) -> CareerProof:
    return build_career_proof(world.ledger, world.store, T1, "鉄筋", date_to,
                              signing_key(world.ledger))


def trusted(world: World) -> list[bytes]:
    return [public_key_bytes(seal_key.load(world.settings.seal_key_path))]


# -- what it says ---------------------------------------------------------------------------------
def test_the_proof_agrees_with_level_judgment_and_holds_offline(world: World) -> None:
    career(world)
    proof = proof_of(world)
    s = proof.statement
    (judged,) = level_judgments(world.store, T1, "鉄筋", as_of=D20)
    ledger_figures, proven = s["figures"]["ledger"], s["figures"]["proven"]
    f = judged.figures
    assert (ledger_figures["work_days"], ledger_figures["trade_work_days"],
            ledger_figures["foreman_days"], ledger_figures["team_leader_days"]) == (
        f.work_days, f.trade_work_days, f.foreman_days, f.team_leader_days) == (6, 6, 3, 1)
    assert s["figures"]["certified"] == {"work_days": f.certified.work_days,
                                         "foreman_days": f.certified.foreman_days,
                                         "team_leader_days": f.certified.team_leader_days} == {
        "work_days": 200, "foreman_days": 30, "team_leader_days": 20}
    # Proven: the 16th–19th (the 18th at two sites: 職長 there, so no 班長 day); the 19th 班長.
    assert proven == {"work_days": 4, "trade_work_days": 4, "foreman_days": 2,
                      "team_leader_days": 1, "record_count": 5}
    assert [(r["work_date"], r["site_id"], r["position"]) for r in s["records"]] == [
        ("2025-06-16", SITE, "一般"), ("2025-06-17", SITE, "職長"), ("2025-06-18", SITE, "職長"),
        ("2025-06-18", SITE_B, "班長"), ("2025-06-19", SITE_B, "班長")]
    # Left out, and said so: the 20th (not sealed) and the 15th (approved after the seal).
    assert [(r["work_date"], r["site_id"]) for r in s["left_out"]] == [
        ("2025-06-15", SITE_B), ("2025-06-20", SITE)]
    assert all("2025-06-19" in r["reason"] for r in s["left_out"])
    assert s["sealed_through"] == "2025-06-19" and s["period"] == {"from": "2025-06-15",
                                                                  "to": "2025-06-20"}
    verified = verify(CareerProof.from_json(proof.to_json()), trusted(world))
    assert (verified.records, verified.events, verified.heads, verified.left_out) == (5, 10, 1, 2)
    assert verified.proven.foreman_days == 2 and verified.certified.work_days == 200


def test_without_date_to_the_proof_stops_at_the_last_sealed_day(world: World) -> None:
    career(world)
    s = proof_of(world, None).statement
    assert s["period"]["to"] == "2025-06-19"
    assert [r["work_date"] for r in s["left_out"]] == ["2025-06-15"]  # sealed day, late event


def test_a_key_file_that_is_not_the_current_seal_key_is_refused(world: World) -> None:
    with pytest.raises(InvalidState, match="nothing is sealed"):
        signing_key(world.ledger)
    career(world)
    path = world.settings.seal_key_path
    path.unlink()
    seal_key.load_or_create(path)
    with pytest.raises(InvalidState, match="current seal key") as refused:
        signing_key(world.ledger)
    assert refused.value.rule == "seal.key_chain"


def test_an_unknown_trade_is_refused_naming_the_field(world: World) -> None:
    career(world)
    with pytest.raises(InvalidValue) as refused:
        build_career_proof(world.ledger, world.store, T1, "宇宙飛行", None,
                           signing_key(world.ledger))
    assert refused.value.field == "trade"


def test_after_a_key_rotation_the_proof_verifies_under_either_key(world: World) -> None:
    """The 19th is signed by the first key, the 20th by its successor, the statement by the
    successor: the key statements carried join them, whichever key one trusts."""
    career(world)
    path = world.settings.seal_key_path
    old = seal_key.load(path)
    assert rotate_seal_key(world.ledger, world.store, SYSTEM).from_day == D20
    new = seal_key.load(path)
    world.clock.at = jst(2025, 6, 21, 3)
    assert seal_days(world.ledger, world.store, D20, SYSTEM)["sealed"] == 1
    proof = proof_of(world)
    assert proof.statement["left_out"] == []  # the 20th, and the 15th approved on it, sealed
    assert {h.body.key_id for h in proof.heads} == {key_id_of(public_key_bytes(k))
                                                    for k in (old, new)}
    for trusted_key in (old, new):
        verified = verify(proof, [public_key_bytes(trusted_key)])
        assert (verified.records, verified.heads) == (7, 2)
    without_statements = CareerProof(proof.statement, proof.signature, proof.event_proofs,
                                     proof.heads, [])
    fails(without_statements, [public_key_bytes(old)], "not a trusted seal key")


# -- tampering, each named ------------------------------------------------------------------------
def tampered(proof: CareerProof, change: Any) -> CareerProof:
    document = copy.deepcopy(proof.as_dict())
    change(document)
    return CareerProof.from_json(orjson.dumps(document))


def fails(proof: CareerProof, keys: list[bytes], match: str) -> None:
    with pytest.raises(CareerProofError, match=match):
        verify(proof, keys)


def test_each_change_fails_naming_what_failed(world: World) -> None:
    career(world)
    proof, keys = proof_of(world), trusted(world)
    verify(proof, keys)

    def number(d: dict[str, Any]) -> None:
        d["statement"]["figures"]["proven"]["foreman_days"] += 1

    def record(d: dict[str, Any]) -> None:
        d["statement"]["records"][0]["work_date"] = "2025-06-17"

    def dropped_record(d: dict[str, Any]) -> None:
        del d["statement"]["records"][1]

    def certified(d: dict[str, Any]) -> None:
        d["statement"]["figures"]["certified"]["work_days"] = 400

    def signature(d: dict[str, Any]) -> None:
        raw = bytearray(base64.b64decode(d["signature"]))
        raw[0] ^= 1
        d["signature"] = base64.b64encode(bytes(raw)).decode()

    statement = "the statement .*: the signature does not verify"
    for change in (number, record, dropped_record, certified, signature):
        fails(tampered(proof, change), keys, statement)

    def event_content(d: dict[str, Any]) -> None:
        p = d["event_proofs"][0]
        plain = base64.b64decode(p["plain_state"])
        items = cbor2.loads(plain)  # a tap in its compact layout (`ledger.tap_codec`)
        items[3] -= 3_600_000_000  # its reader time an hour earlier
        changed = cbor2.dumps(items)
        assert changed != plain
        p["plain_state"] = base64.b64encode(changed).decode()

    def event_path(d: dict[str, Any]) -> None:
        p = d["event_proofs"][0]
        p["path"][0] = "00" * 32

    def event_swapped(d: dict[str, Any]) -> None:  # a valid proof of another event, relabelled
        first, second = d["event_proofs"][0], d["event_proofs"][1]
        d["event_proofs"][0] = {**second, "position": first["position"]}

    def event_missing(d: dict[str, Any]) -> None:
        del d["event_proofs"][3]

    def head_root(d: dict[str, Any]) -> None:
        d["heads"][0]["head"]["day_root"] = "11" * 32
        del d["heads"][0]["head_hash"]

    def head_signature(d: dict[str, Any]) -> None:
        d["heads"][0]["signature"] = d["signature"]

    def head_missing(d: dict[str, Any]) -> None:
        d["heads"].clear()

    first_record = "record of 2025-06-16 at 10000000000001"
    fails(tampered(proof, event_content), keys, f"{first_record}: the proof for log position "
          ".* is of another event")
    fails(tampered(proof, event_path), keys, f"{first_record}: event .* does not lead to the "
          "signed root")
    fails(tampered(proof, event_swapped), keys, f"{first_record}: the proof for log position .* "
          "is of another event")
    fails(tampered(proof, event_missing), keys, "no proof for its event at log position")
    fails(tampered(proof, head_root), keys, "signed heads: head of 2025-06-19: the signature")
    fails(tampered(proof, head_signature), keys, "signed heads: head of 2025-06-19: the "
          "signature")
    fails(tampered(proof, head_missing), keys, "whose signed head is missing")
    # Another key than the ledger's: nothing joins it to the heads' key.
    fails(proof, [public_key_bytes(Ed25519PrivateKey.generate())], "not a trusted seal key")


def resigned(proof: CareerProof, key: Ed25519PrivateKey, change: Any) -> CareerProof:
    """A statement changed and signed again with the ledger's own key: what a faulty builder
    (or a thief of the key file) could make. The recount still catches what does not add up."""
    statement = copy.deepcopy(proof.statement)
    change(statement)
    return CareerProof(statement, b64(key.sign(canonical(statement))), proof.event_proofs,
                       proof.heads, proof.key_statements)


def test_a_resigned_statement_that_does_not_add_up_fails(world: World) -> None:
    career(world)
    proof, keys, key = proof_of(world), trusted(world), signing_key(world.ledger)

    def more_foreman(s: dict[str, Any]) -> None:
        s["figures"]["proven"]["foreman_days"] += 1

    def promoted(s: dict[str, Any]) -> None:
        s["records"][0]["position"] = "職長"

    def other_site(s: dict[str, Any]) -> None:
        s["records"][0]["site_id"] = SITE_B

    def other_worker(s: dict[str, Any]) -> None:
        s["technician_id"] = "99999999999999"

    def certified(s: dict[str, Any]) -> None:
        s["figures"]["certified"]["work_days"] = 366

    fails(resigned(proof, key, more_foreman), keys, "figures \\(proven\\): foreman_days says 3, "
          "but the records count 2")
    fails(resigned(proof, key, promoted), keys, "figures \\(proven\\): foreman_days says 2, but "
          "the records count 3")
    fails(resigned(proof, key, other_site), keys, "record of 2025-06-16 at 10000000000002: a "
          "tap at reader GATE-1, which the statement does not place at the site")
    fails(resigned(proof, key, other_worker), keys, "a tap of card 0A000001, which the "
          "statement does not give to the worker")
    fails(resigned(proof, key, certified), keys, "figures \\(certified\\)")


def test_the_printed_page_carries_the_same_proof(world: World) -> None:
    career(world)
    proof = proof_of(world)
    page = render(proof).encode()
    assert "経歴証明書".encode() in page and b"<svg" in page
    assert proof.sha256().encode() in page
    again = extract(page)
    assert again.as_dict() == proof.as_dict()
    verify(again, trusted(world))
    forged = page.replace(b'"foreman_days": 2', b'"foreman_days": 3', 1)
    assert forged != page
    with pytest.raises(CareerProofError, match="printed SHA-256"):
        extract(forged)


# -- the command line -----------------------------------------------------------------------------
def ledger_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from api.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, check=False,
                          cwd=Path(__file__).resolve().parents[2])


def test_cli_signs_and_verifies_offline_with_no_database(
    world: World, tmp_path: Path, now: FixedClock
) -> None:
    career(world)
    env = {**os.environ, "LEDGER_DATABASE_URL": world.settings.database_url,
           "LEDGER_SEAL_KEY_FILE": str(world.settings.seal_key_path),
           "LEDGER_WITNESS_DIR": str(world.settings.witness_path)}
    if world.settings.cipher_key:
        env["LEDGER_CIPHER_KEY"] = world.settings.cipher_key
    out, page = tmp_path / "proof.json", tmp_path / "proof.html"
    made = ledger_command("career-proof", T1, "--trade", "tekkin", "--date-to", "2025-06-20",
                          "--out", str(out), "--html", str(page), env=env)
    assert made.returncode == 0, made.stderr
    assert "5 record(s) proven through 2025-06-19, 2 left out" in made.stderr
    public = tmp_path / "seal.pub"
    public.write_text(base64.b64encode(trusted(world)[0]).decode())
    # Offline: the database URL leads nowhere, and a SQLite file would be made if it were opened.
    nowhere = tmp_path / "absent" / "ledger.db"
    offline = {**env, "LEDGER_DATABASE_URL": f"sqlite:///{nowhere}"}
    for file in (out, page):
        checked = ledger_command("verify-proof", str(file), "--public-key", str(public),
                                 env=offline)
        assert checked.returncode == 0, checked.stderr
        assert f"ok: career proof of worker {T1} in 鉄筋" in checked.stdout
        assert "It does not prove:" in checked.stdout and "職長 2 day(s)" in checked.stdout
    offline_pg = {**env, "LEDGER_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"}
    assert ledger_command("verify-proof", str(out), "--public-key", str(public),
                          env=offline_pg).returncode == 0
    assert not nowhere.parent.exists()
    # A changed number: 1, naming it. Not a proof, or an unreadable key: 2.
    document = orjson.loads(out.read_bytes())
    document["statement"]["figures"]["proven"]["team_leader_days"] = 5
    forged = tmp_path / "forged.json"
    forged.write_bytes(orjson.dumps(document))
    failed = ledger_command("verify-proof", str(forged), "--public-key", str(public),
                            env=offline)
    assert failed.returncode == 1 and "FAILED" in failed.stderr
    assert "the statement" in failed.stderr and "signature does not verify" in failed.stderr
    (tmp_path / "junk.json").write_text("{}")
    assert ledger_command("verify-proof", str(tmp_path / "junk.json"), "--public-key",
                          str(public), env=offline).returncode == 2
    (tmp_path / "bad.pub").write_text("not a key")
    assert ledger_command("verify-proof", str(out), "--public-key", str(tmp_path / "bad.pub"),
                          env=offline).returncode == 2
