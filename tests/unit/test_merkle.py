"""The Merkle trees of the seals, against RFC 6962's published test vectors and against a small
independent implementation written straight from the RFC's recursive definitions."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.settlement.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# The Certificate Transparency reference tree (RFC 6962 test data, as in its reference code).
CT_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [  # (0-based leaf index, tree size, audit path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
CT_CONSISTENCY = [  # (old size, new size, proof)
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]


# -- an independent implementation, straight from RFC 6962 §2.1 --------------------------------
def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _mth(entries: list[bytes]) -> bytes:
    """MTH(D[n]) over raw entries, recursively, as the RFC writes it."""
    if not entries:
        return _h(b"")
    if len(entries) == 1:
        return _h(b"\x00" + entries[0])
    k = 1
    while k * 2 < len(entries):
        k *= 2
    return _h(b"\x01" + _mth(entries[:k]) + _mth(entries[k:]))


def _path(m: int, entries: list[bytes]) -> list[bytes]:
    if len(entries) == 1:
        return []
    k = 1
    while k * 2 < len(entries):
        k *= 2
    if m < k:
        return [*_path(m, entries[:k]), _mth(entries[k:])]
    return [*_path(m - k, entries[k:]), _mth(entries[:k])]


def _entries(n: int) -> list[bytes]:
    return [f"event {i}".encode() for i in range(n)]


# -- the reference vectors -----------------------------------------------------------------------
def test_roots_match_rfc6962_vectors() -> None:
    assert root_of([]) == EMPTY_ROOT == bytes.fromhex(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    leaves = [leaf_hash(entry) for entry in CT_LEAVES]
    for size in range(1, 9):
        assert root_of(leaves[:size]).hex() == CT_ROOTS[size - 1], size


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_inclusion_matches_rfc6962_vectors(index: int, size: int, path: list[str]) -> None:
    leaves = [leaf_hash(entry) for entry in CT_LEAVES[:size]]
    assert [node.hex() for node in inclusion_proof(leaves, index)] == path
    verify_inclusion(leaves[index], index, size, [bytes.fromhex(p) for p in path],
                     bytes.fromhex(CT_ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY)
def test_consistency_matches_rfc6962_vectors(old: int, new: int, proof: list[str]) -> None:
    leaves = [leaf_hash(entry) for entry in CT_LEAVES[:new]]
    assert [node.hex() for node in consistency_proof(leaves, old)] == proof
    verify_consistency(old, new, bytes.fromhex(CT_ROOTS[old - 1]),
                       bytes.fromhex(CT_ROOTS[new - 1]), [bytes.fromhex(p) for p in proof])


# -- against the independent implementation, every shape of tree ---------------------------------
@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 9, 31, 64, 65, 100, 129])
def test_every_leaf_proves_against_the_independent_tree(size: int) -> None:
    entries = _entries(size)
    leaves = [leaf_hash(e) for e in entries]
    root = _mth(entries)
    assert root_of(leaves) == root
    for index in range(size):
        proof = inclusion_proof(leaves, index)
        assert proof == _path(index, entries)
        verify_inclusion(leaves[index], index, size, proof, root)


@given(st.integers(1, 300), st.data())
def test_accumulator_equals_the_recursive_root(size: int, data: st.DataObject) -> None:
    entries = _entries(size)
    accumulator = MerkleAccumulator()
    for entry in entries:
        accumulator.add(leaf_hash(entry))
    assert accumulator.root() == _mth(entries) and accumulator.size == size
    old = data.draw(st.integers(1, size))
    leaves = [leaf_hash(e) for e in entries]
    verify_consistency(old, size, _mth(entries[:old]), _mth(entries),
                       consistency_proof(leaves, old))


@pytest.mark.parametrize("size", [64, 65, 127, 128, 129, 300, 1000])
def test_roots_of_aligned_runs_are_the_trees_nodes(size: int) -> None:
    """A seal keeps the root of every aligned run of 64 leaves; the tree over those roots is the
    day's tree, and a proof is the run's own path followed by the path among the runs."""
    leaves = [leaf_hash(e) for e in _entries(size)]
    runs = [root_of(leaves[at:at + 64]) for at in range(0, size, 64)]
    assert root_of(runs) == root_of(leaves)
    for index in (0, 63, size // 2, size - 1):
        run = index // 64
        joined = (inclusion_proof(leaves[run * 64:run * 64 + 64], index % 64)
                  + inclusion_proof(runs, run))
        assert joined == inclusion_proof(leaves, index)


# -- what fails, and says so ---------------------------------------------------------------------
def test_a_changed_leaf_or_path_fails_naming_it() -> None:
    leaves = [leaf_hash(e) for e in _entries(10)]
    root, proof = root_of(leaves), inclusion_proof(leaves, 3)
    with pytest.raises(ProofError, match="signed root"):
        verify_inclusion(leaf_hash(b"forged"), 3, 10, proof, root)
    with pytest.raises(ProofError, match="signed root"):
        verify_inclusion(leaves[3], 3, 10, [proof[0][::-1], *proof[1:]], root)
    with pytest.raises(ProofError, match="signed root"):
        verify_inclusion(leaves[3], 2, 10, proof, root)
    with pytest.raises(ProofError, match="shorter"):
        verify_inclusion(leaves[3], 3, 10, proof[:-1], root)
    with pytest.raises(ProofError, match="longer"):
        verify_inclusion(leaves[3], 3, 10, [*proof, proof[0]], root)
    with pytest.raises(ProofError, match="outside"):
        verify_inclusion(leaves[3], 10, 10, proof, root)


def test_a_rewritten_history_fails_consistency() -> None:
    entries = _entries(20)
    leaves = [leaf_hash(e) for e in entries]
    proof = consistency_proof(leaves, 7)
    rewritten = [leaf_hash(b"rewritten"), *leaves[1:]]
    with pytest.raises(ProofError, match="earlier root"):
        verify_consistency(7, 20, root_of(rewritten[:7]), root_of(leaves), proof)
    with pytest.raises(ProofError, match="later root"):
        verify_consistency(7, 20, root_of(leaves[:7]), root_of(rewritten), proof)
    with pytest.raises(ProofError):
        verify_consistency(8, 20, root_of(leaves[:8]), root_of(leaves), proof)
