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
    # The break taken off time on site where the overtime monitor estimates a day nobody
    # reported (労基法34条: 1 h for a day over 8 h).
    working_time_break_minutes: int = 60
    migrations_dir: Path = REPO_ROOT / "migrations"

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
