"""The seal key file: an Ed25519 private key outside the database, created on first use (0600).

Whoever can write to the database must not also be able to re-sign its heads, so the key never
enters it; only its public half and the statements that introduce it are recorded.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from ledger.domain.settlement.heads import key_id_of, public_key_bytes
from ledger.errors import InvalidState


def load_or_create(path: Path) -> Ed25519PrivateKey:
    """The key in `path`, made (mode 0600, its directory 0700) if there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Another process (a second worker) may make it first: then that one is used.
        with contextlib.suppress(FileExistsError):
            _write_new(path, Ed25519PrivateKey.generate())
    return load(path)


def load(path: Path) -> Ed25519PrivateKey:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise InvalidState("seal_key_file", "seal.key_file",
                           f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as error:
        raise InvalidState("seal_key_file", "seal.key_file",
                           f"{path} is not a PEM private key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidState("seal_key_file", "seal.key_file", f"{path} is not an Ed25519 key")
    return key


def staged_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.new")


def stage(path: Path) -> Ed25519PrivateKey:
    """The next key, beside the current one (``<name>.new``, 0600) until it is promoted: a
    rotation records the new key's statement in the log between the two steps, so a crash
    leaves either the old key in place or both files, never neither."""
    staged = staged_path(path)
    if staged.exists():
        return load(staged)  # a rotation interrupted before; its key may be recorded already
    _write_new(staged, Ed25519PrivateKey.generate())
    return load(staged)


def promote(path: Path) -> None:
    """Make the staged key the key file's; the old one is kept as ``<name>.retired-<key id>``
    (still 0600) until the operator destroys it."""
    old = load(path)
    retired = path.with_name(f"{path.name}.retired-{key_id_of(public_key_bytes(old))}")
    if not retired.exists():
        os.link(path, retired)
    os.replace(staged_path(path), path)


def _write_new(path: Path, key: Ed25519PrivateKey) -> None:
    """Write the key whole under a temporary name, then link it into place: the name appears
    complete or not at all, and never replaces a key (FileExistsError if one is there)."""
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
