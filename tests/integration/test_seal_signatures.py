"""Signed seals on SQLite and PostgreSQL, plain and encrypted: each day's head is an RFC 6962 root
signed by a key outside the database and copied to a witness; inclusion proofs check with no
database; and each way of quietly undoing a seal is caught and named (immudb-style tamper tests)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.actors import SYSTEM
from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.domain.settlement import DailySeal, daily_seal_id
from ledger.domain.settlement.heads import (
    HeadBody,
    KeyRing,
    KeyStatement,
    SignatureError,
    SignedHead,
    event_leaf_data,
    key_id_of,
    public_key_bytes,
)
from ledger.domain.settlement.merkle import ProofError
from ledger.domain.settlement.proofs import ConsistencyProof
from ledger.errors import InvalidState
from ledger.settings import Settings
from ledger.storage import seal_key
from ledger.storage.migrate import migrate
from ledger.storage.witness import WitnessDirectory
from projections.jobs.rawlog import iter_raw
from projections.jobs.seal import plain_state, rotate_seal_key, seal_days
from projections.jobs.seal_proofs import (
    NotSealed,
    prove_consistency,
    prove_events,
    sealed_days,
)
from projections.jobs.seal_verify import verify_seals
from projections.settlement import catch_up as project_decisions
from tests.integration.jobs_world import CARDS, SITE, T1, T2, World, jst
from tests.integration.test_jobs_seal import execute
from tests.unit.test_merkle import _mth

D18, D19, D20 = date(2025, 6, 18), date(2025, 6, 19), date(2025, 6, 20)


@pytest.fixture
def settings(database_url: str, cipher_key: str | None) -> Settings:
    settings = Settings(database_url=database_url, cipher_key=cipher_key)
    migrate(settings)
    return settings


@pytest.fixture
def world(ledger: Ledger, settings: Settings, now: FixedClock) -> Iterator[World]:
    with World.built(ledger, settings, now, at=jst(2025, 6, 18, 9),
                     opened_on=date(2025, 6, 1)) as built:
        yield built


def three_sealed_days(world: World, taps_a_day: int = 70) -> dict[date, list[int]]:
    """Taps on the 18th, 19th and 20th (more than one 64-leaf run a day), each day sealed the
    night after; the taps' positions by day."""
    positions: dict[date, list[int]] = {}
    for day in (D18, D19, D20):
        positions[day] = [
            world.tap(SITE, CARDS[T1 if k % 2 else T2], "in" if k % 4 < 2 else "out",
                      jst(day.year, day.month, day.day, 6 + k // 10, k % 10))
            for k in range(taps_a_day)]
        world.clock.at = jst(day.year, day.month, day.day + 1, 3)
        assert seal_days(world.ledger, world.store, day, SYSTEM)["sealed"] == 1
    project_decisions(world.ledger, world.store)
    return positions



def seal_row(world: World, day: date) -> int:
    """The log position of a day's seal event."""
    for raw in iter_raw(world.store, 0):
        if raw.originator_id == daily_seal_id(day):
            return raw.position
    raise AssertionError(f"no seal for {day}")


# -- what a seal is -------------------------------------------------------------------------------
def test_each_day_is_a_signed_rfc6962_root_copied_to_the_witness(world: World) -> None:
    three_sealed_days(world)
    key_path = world.settings.seal_key_path
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = seal_key.load(key_path)
    heads = [sealed.head for sealed in sealed_days(world.store)]
    assert [h.body.day for h in heads] == [D18, D19, D20]
    ring = KeyRing([public_key_bytes(key)], [])
    previous = "0" * 64
    for size, head in enumerate(heads, start=1):
        head.verify(ring)
        assert head.body.previous_head_hash == previous and head.body.tree_size == size
        previous = head.body.head_hash
        # The day root, recomputed by the independent implementation from the stored rows.
        entries = [event_leaf_data(raw.originator_id, raw.version, raw.topic, raw.state,
                                   plain_state(world.ledger.mapper, raw.state))
                   for raw in iter_raw(world.store, head.body.first_position,
                                       head.body.last_position)]
        assert len(entries) == head.body.event_count > 64
        assert _mth(entries).hex() == head.body.day_root
        # The witness holds exactly what the log holds.
        copy = WitnessDirectory(world.settings.witness_path).read()
        assert SignedHead.from_dict(copy.heads[head.body.day]) == head
    assert key_id_of(public_key_bytes(key)) not in str(world.settings.database_url)
    result = verify_seals(world.ledger, world.store)
    assert result.ok, (result.first_mismatch, result.problems)
    assert result.signed_seals == 3 and result.trusted_keys == [heads[0].body.key_id]


def test_every_event_proves_offline_and_any_change_fails(world: World) -> None:
    positions = three_sealed_days(world)
    wanted = [p for day in (D18, D20) for p in positions[day][::7]]
    proofs, heads = prove_events(world.ledger, world.store, wanted)
    ring = KeyRing([public_key_bytes(seal_key.load(world.settings.seal_key_path))], [])
    for head in heads.values():
        head.verify(ring)
    for position in wanted:
        proof = proofs[position]
        proof.verify(heads[proof.day])
        assert proof.content()["originator_topic"].endswith(":Tap")  # the tap as recorded
        assert len(proof.path) <= 8  # O(log n): 140 leaves a day
        # Each part of the proof is bound: change one and it fails.
        as_dict = proof.as_dict()
        for field, changed in (("leaf_index", proof.leaf_index ^ 1),
                               ("stored_sha256", "0" * 64),
                               ("path", [n[::-1] for n in as_dict["path"][:1]]
                                + as_dict["path"][1:]),
                               ("plain_state", as_dict["plain_state"].replace("A", "B", 1)),
                               ("version", proof.version + 1)):
            forged = type(proof).from_dict({**as_dict, field: changed})
            with pytest.raises(ProofError, match="signed root"):
                forged.verify(heads[proof.day])
        with pytest.raises(ProofError, match="names"):
            proof.verify(heads[D18 if proof.day == D20 else D20])


def test_an_event_not_yet_sealed_has_no_proof(world: World) -> None:
    three_sealed_days(world, taps_a_day=3)
    later = world.tap(SITE, CARDS[T1], "in", jst(2025, 6, 21, 8))
    with pytest.raises(NotSealed, match=f"position {later}.*2025-06-20"):
        prove_events(world.ledger, world.store, [later])


# -- tampering, each named ----------------------------------------------------------------------
def test_deleting_the_newest_seal_is_caught_by_the_table_and_the_witness(world: World) -> None:
    three_sealed_days(world, taps_a_day=3)
    row = seal_row(world, D20)
    execute(world.settings, "DELETE FROM stored_events WHERE rowid = ?",
            "DELETE FROM ledger_events WHERE notification_id = %s", [row])
    result = verify_seals(world.ledger, world.store)
    assert not result.ok and result.first_mismatch is None  # the chain left is whole …
    problems = "\n".join(result.problems)
    assert "the seal table lists 2025-06-20" in problems  # … but two copies remember the day
    assert "holds a signed head for 2025-06-20 that the log lacks" in problems


def test_truncating_the_log_after_a_seal_is_caught(world: World) -> None:
    three_sealed_days(world, taps_a_day=3)
    row = seal_row(world, D19)
    execute(world.settings, "DELETE FROM stored_events WHERE rowid >= ?",
            "DELETE FROM ledger_events WHERE notification_id >= %s", [row])
    execute(world.settings, "DELETE FROM daily_seals WHERE day >= ?",
            "DELETE FROM daily_seals WHERE day >= %s", [D19])  # the intruder cleans up too
    result = verify_seals(world.ledger, world.store)
    assert not result.ok
    problems = "\n".join(result.problems)
    for day in ("2025-06-19", "2025-06-20"):
        assert f"holds a signed head for {day} that the log lacks" in problems


def test_a_seal_re_signed_under_another_key_is_caught(world: World, tmp_path: Path) -> None:
    three_sealed_days(world, taps_a_day=3)
    row = seal_row(world, D20)
    original = world.ledger.repository.get(daily_seal_id(D20))
    assert isinstance(original, DailySeal) and original.signed_head is not None
    execute(world.settings, "DELETE FROM stored_events WHERE rowid = ?",
            "DELETE FROM ledger_events WHERE notification_id = %s", [row])
    execute(world.settings, "DELETE FROM daily_seals WHERE day = ?",
            "DELETE FROM daily_seals WHERE day = %s", [D20])
    # The intruder's own key signs the same day again (a head as the job would make it).
    theirs = Ed25519PrivateKey.generate()
    body = HeadBody(**{**original.signed_head.body.__dict__,
                       "key_id": key_id_of(public_key_bytes(theirs))})
    previous = world.ledger.repository.get(daily_seal_id(D19))
    assert isinstance(previous, DailySeal)
    forged = DailySeal.seal(D20, previous.head, original.last_position, original.event_count,
                            original.events_digest, original.event_digests, SYSTEM,
                            world.clock.now(), SignedHead.sign(body, theirs),
                            original.chunk_roots)
    execute(world.settings, "DELETE FROM stored_events WHERE originator_id = ?",
            "DELETE FROM ledger_events WHERE originator_id = %s",
            [daily_seal_id(D20).hex if not world.settings.is_postgres else daily_seal_id(D20)])
    world.ledger.seal_days([forged])
    result = verify_seals(world.ledger, world.store)
    assert result.first_mismatch is not None
    assert result.first_mismatch.day == D20
    assert "not a trusted seal key" in result.first_mismatch.reason


def test_an_altered_witness_file_is_caught(world: World) -> None:
    three_sealed_days(world, taps_a_day=3)
    path = world.settings.witness_path / "heads" / "2025-06-19.json"
    head = json.loads(path.read_bytes())
    head["head"]["event_count"] += 1
    os.chmod(path, 0o644)
    path.write_text(json.dumps(head))
    result = verify_seals(world.ledger, world.store)
    assert not result.ok
    assert any("2025-06-19" in p and "witness" in p for p in result.problems), result.problems


def test_a_changed_row_is_named_by_position(world: World, settings: Settings) -> None:
    """(An edit of a plain row's JSON is test_jobs_seal's; this flips a byte, which an
    encrypted row does not survive: it no longer decrypts.)"""
    positions = three_sealed_days(world, taps_a_day=3)
    target = positions[D19][1]
    (raw,) = iter_raw(world.store, target - 1, target)
    flipped = bytes([raw.state[-1] ^ 1])
    execute(settings,
            "UPDATE stored_events SET state = CAST(substr(state, 1, length(state) - 1) || ? "
            "AS BLOB) WHERE rowid = ?",
            "UPDATE ledger_events SET state = overlay(state placing %s from length(state)) "
            "WHERE notification_id = %s", [flipped, target])
    result = verify_seals(world.ledger, world.store)
    assert result.first_mismatch is not None
    assert (result.first_mismatch.day, result.first_mismatch.position) == (D19, target)


def test_a_swapped_key_file_refuses_to_seal(world: World) -> None:
    three_sealed_days(world, taps_a_day=3)
    path = world.settings.seal_key_path
    path.unlink()
    seal_key.load_or_create(path)
    world.clock.at = jst(2025, 6, 22, 3)
    with pytest.raises(InvalidState, match="seal-key rotate") as refused:
        seal_days(world.ledger, world.store, date(2025, 6, 21), SYSTEM)
    assert refused.value.rule == "seal.key_chain"


def test_a_key_file_readable_by_others_is_refused(world: World) -> None:
    three_sealed_days(world, taps_a_day=1)
    os.chmod(world.settings.seal_key_path, 0o644)
    with pytest.raises(InvalidState, match="chmod 600"):
        seal_key.load(world.settings.seal_key_path)


def test_a_forged_head_does_not_verify(world: World) -> None:
    three_sealed_days(world, taps_a_day=1)
    ring = KeyRing([public_key_bytes(seal_key.load(world.settings.seal_key_path))], [])
    head = sealed_days(world.store)[-1].head
    forged = SignedHead(HeadBody(**{**head.body.__dict__, "event_count": 99}), head.signature)
    with pytest.raises(SignatureError, match="does not verify"):
        forged.verify(ring)


# -- key rotation and consistency ------------------------------------------------------------
def test_a_rotated_key_signs_on_and_proofs_under_either_key_verify(world: World) -> None:
    positions = three_sealed_days(world, taps_a_day=3)
    old_public = public_key_bytes(seal_key.load(world.settings.seal_key_path))
    statement = rotate_seal_key(world.ledger, world.store, SYSTEM)
    assert statement.from_day == date(2025, 6, 21) and statement.previous_key_id == key_id_of(
        old_public)
    new_public = public_key_bytes(seal_key.load(world.settings.seal_key_path))
    assert new_public != old_public
    retired = world.settings.seal_key_path.with_name(
        f"{world.settings.seal_key_path.name}.retired-{key_id_of(old_public)}")
    assert stat.S_IMODE(retired.stat().st_mode) == 0o600
    later = world.tap(SITE, CARDS[T1], "in", jst(2025, 6, 21, 8))
    world.clock.at = jst(2025, 6, 22, 3)
    seal_days(world.ledger, world.store, date(2025, 6, 21), SYSTEM)

    result = verify_seals(world.ledger, world.store)
    assert result.ok, (result.first_mismatch, result.problems)
    assert sorted(result.trusted_keys) == sorted([key_id_of(old_public), key_id_of(new_public)])
    keys = world.ledger.seal_keys()
    assert keys is not None and [s.key_id for s in keys.statements] == [
        key_id_of(old_public), key_id_of(new_public)]
    proofs, heads = prove_events(world.ledger, world.store, [positions[D18][0], later])
    assert {h.body.key_id for h in heads.values()} == {key_id_of(old_public),
                                                       key_id_of(new_public)}
    for trusted in (old_public, new_public):  # from either end of the rotation
        ring = KeyRing([trusted], keys.statements)
        for proof in proofs.values():
            heads[proof.day].verify(ring)
            proof.verify(heads[proof.day])
    # The old key cannot sign a day after the rotation, nor the new one a day before.
    ring = KeyRing([old_public], keys.statements)
    stale = heads[date(2025, 6, 21)]
    with pytest.raises(SignatureError, match="signs only from"):
        ring.key_for(key_id_of(old_public), stale.body.day)
    with pytest.raises(SignatureError, match="signs only from"):
        ring.key_for(key_id_of(new_public), D18)
    copy = WitnessDirectory(world.settings.witness_path).read()
    assert len(copy.keys) == 2


def test_a_rotation_cut_short_is_finished_by_the_next_seal(world: World) -> None:
    three_sealed_days(world, taps_a_day=1)
    path = world.settings.seal_key_path
    old = seal_key.load(path)
    staged = seal_key.stage(path)  # the rotation wrote the new key …
    world.ledger.introduce_seal_key(  # … and recorded its statement, then stopped
        KeyStatement.introduce(staged, date(2025, 6, 21), previous=old), SYSTEM)
    world.tap(SITE, CARDS[T1], "in", jst(2025, 6, 21, 8))
    world.clock.at = jst(2025, 6, 22, 3)
    assert seal_days(world.ledger, world.store, date(2025, 6, 21), SYSTEM)["sealed"] == 1
    assert public_key_bytes(seal_key.load(path)) == public_key_bytes(staged)
    result = verify_seals(world.ledger, world.store)
    assert result.ok, (result.first_mismatch, result.problems)


def test_a_monitor_checks_a_later_head_extends_the_one_it_kept(world: World) -> None:
    three_sealed_days(world, taps_a_day=2)
    for day in (21, 22, 23):
        world.tap(SITE, CARDS[T1], "in", jst(2025, 6, day, 8))
        world.clock.at = jst(2025, 6, day + 1, 3)
        seal_days(world.ledger, world.store, date(2025, 6, day), SYSTEM)
    ring = KeyRing([public_key_bytes(seal_key.load(world.settings.seal_key_path))], [])
    kept = {s.day: s.head for s in sealed_days(world.store)}
    for earlier in (D18, D19, D20, date(2025, 6, 23)):
        proof = prove_consistency(world.store, earlier)
        assert proof.later.body.day == date(2025, 6, 23)
        assert "extends" in proof.verify(ring, kept[earlier])
        assert len(proof.path) <= 4  # O(log days)
    proof = prove_consistency(world.store, D19, date(2025, 6, 22))
    proof.verify(ring, kept[D19])
    if proof.path:
        bent = ConsistencyProof(proof.earlier, proof.later, [proof.path[0][::-1], *proof.path[1:]])
        with pytest.raises(ProofError, match="root"):
            bent.verify(ring)
    with pytest.raises(ProofError, match="rewrote"):
        proof.verify(ring, kept[D20])
    forged_body = HeadBody(**{**proof.later.body.__dict__, "event_count": 1})
    with pytest.raises(ProofError, match="does not verify"):
        ConsistencyProof(proof.earlier, SignedHead(forged_body, proof.later.signature),
                         proof.path).verify(ring)
