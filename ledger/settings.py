"""Settings, read once from the environment (LEDGER_*)."""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = REPO_ROOT / "var" / "ledger.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    cipher_key: str | None = None
    max_shift_hours: int = 24
    migrations_dir: Path = REPO_ROOT / "migrations"
    # The daily seals' Ed25519 signing key and the witness copy of every signed head: files
    # outside the database, so that whoever can write to it cannot also re-sign or erase a head.
    # Unset, both live in the seal directory of this database (see `seal_home`).
    seal_key_file: Path | None = None
    witness_dir: Path | None = None
    # The key that signs the gate codes phones scan (phone entry): outside the database too.
    gate_code_key_file: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgres:")):
            raise ValueError("LEDGER_DATABASE_URL must start with sqlite: or postgresql:")
        return value

    @field_validator("cipher_key")
    @classmethod
    def _aes_key(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            raw = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise ValueError("LEDGER_CIPHER_KEY must be base64 (16, 24 or 32 bytes)") from None
        if len(raw) not in (16, 24, 32):
            raise ValueError("LEDGER_CIPHER_KEY must decode to 16, 24 or 32 bytes (AES)")
        return value

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql:", "postgres:"))

    @property
    def sqlite_path(self) -> str:
        path = self.database_url.removeprefix("sqlite://")
        return path[1:] if path.startswith("//") else path  # sqlite:////abs → /abs


    @property
    def seal_home(self) -> Path:
        """Where a database's seal key and witness live unless set: beside a SQLite file
        (``ledger.db.seals``), or ``var/seals/<host>-<port>-<database>`` for PostgreSQL, so two
        databases used from one checkout never share a key or a witness."""
        if not self.is_postgres:
            return Path(f"{self.sqlite_path}.seals")
        params = postgres_params(self.database_url)
        return REPO_ROOT / "var" / "seals" / f"{params['host']}-{params['port']}-{params['dbname']}"

    @property
    def gate_code_key_path(self) -> Path:
        return self.gate_code_key_file or self.seal_home / "gate-code-hmac.key"

    @property
    def seal_key_path(self) -> Path:
        return self.seal_key_file or self.seal_home / "seal-ed25519.pem"

    @property
    def witness_path(self) -> Path:
        return self.witness_dir or self.seal_home / "witness"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def postgres_params(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
        "dbname": (parts.path or "/postgres").lstrip("/") or "postgres",
    }
