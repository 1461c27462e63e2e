"""The gate-code key file: 32 random bytes outside the database, created on first use (0600).

Whoever can read the database must not be able to make gate codes (a code proves a phone stood
at the gate), so the key never enters it. Losing it only ends the codes on screens now: the
next code is signed with the new key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from ledger.errors import InvalidState

KEY_BYTES = 32  # HMAC-SHA256's block-size-safe key length


def load_or_create(path: Path) -> bytes:
    """The key in `path`, made (mode 0600, its directory 0700) if there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(secrets.token_bytes(KEY_BYTES))
                file.flush()
                os.fsync(file.fileno())
            # Another process may make it first: then that one is used.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise InvalidState("gate_code_key_file", "gate_code.key_file",
                           f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise InvalidState("gate_code_key_file", "gate_code.key_file",
                           f"{path} does not hold a {KEY_BYTES}-byte key")
    return key
