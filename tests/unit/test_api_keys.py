"""API key tokens: their shape, and what each role's key may name as its subject."""

from __future__ import annotations

import pytest

from ledger.actors import Role
from ledger.errors import InvalidValue
from ledger.storage.keys import TOKEN_PREFIX, check_subject, hash_secret, split_token


def test_a_token_carries_its_key_id_and_secret() -> None:
    assert split_token(f"{TOKEN_PREFIX}_0123456789abcdef_se_cr-et") == (
        "0123456789abcdef", "se_cr-et")


@pytest.mark.parametrize("token", ["", "ldg", "ldg_0123456789abcdef", "ldg_0123_secret",
                                   "xyz_0123456789abcdef_secret", "Bearer ldg_x_y"])
def test_anything_else_is_not_a_token(token: str) -> None:
    assert split_token(token) is None


def test_the_hash_is_sha256_hex() -> None:
    assert hash_secret("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


@pytest.mark.parametrize(("role", "subject"), [
    (Role.READER, "GATE-1"), (Role.PRIME_CONTRACTOR, "100"), (Role.EMPLOYER, "200"),
    (Role.WORKER, "12345678901234"), (Role.AUDITOR, "監査 花子"), (Role.ADMIN, "ops"),
])
def test_each_role_names_what_it_acts_as(role: Role, subject: str) -> None:
    assert check_subject(role, subject) == subject


@pytest.mark.parametrize(("role", "subject", "field"), [
    (Role.READER, "GATE 1", "reader_id"), (Role.EMPLOYER, "ABC", "business_id"),
    (Role.WORKER, "123", "technician_id"), (Role.ADMIN, "  ", "name"),
    (Role.SYSTEM, "cron", "role"),
])
def test_a_subject_that_does_not_fit_is_refused(role: Role, subject: str, field: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_subject(role, subject)
    assert refused.value.field == field
