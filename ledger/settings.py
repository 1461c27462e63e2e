"""Settings, read once from the environment (LEDGER_*)."""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
# The migrations: the source tree's top-level folder in a checkout, else the copy the wheel
# ships inside the package (setup.py maps `migrations/` to `ledger/migrations`).
SOURCE_MIGRATIONS = REPO_ROOT / "migrations"
PACKAGED_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def in_checkout() -> bool:
    """Run from the source tree (an editable install), not from an installed wheel."""
    return (REPO_ROOT / "pyproject.toml").is_file() and SOURCE_MIGRATIONS.is_dir()


def default_data_dir() -> Path:
    """The checkout's var/ (what `make run` has always used); installed, ./var in the working
    directory. Never the installed package's folder."""
    return REPO_ROOT / "var" if in_checkout() else Path.cwd() / "var"


def default_migrations_dir() -> Path:
    # Not "a migrations/ beside the package": installed, that would be site-packages/migrations,
    # which another distribution may own.
    return SOURCE_MIGRATIONS if in_checkout() else PACKAGED_MIGRATIONS


DEFAULT_SQLITE_PATH = default_data_dir() / "ledger.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore")

    # Every file the ledger writes (SQLite database, settlement files, replays, …) lives under
    # here unless its own setting says otherwise.
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""  # default: SQLite at <data_dir>/ledger.db
    cipher_key: str | None = None
    max_shift_hours: int = 24
    # The break taken off time on site where the overtime monitor estimates a day nobody
    # reported (労基法34条: 1 h for a day over 8 h).
    working_time_break_minutes: int = 60
    migrations_dir: Path = Field(default_factory=default_migrations_dir)
    # The daily seals' Ed25519 signing key and the witness copy of every signed head: files
    # outside the database, so that whoever can write to it cannot also re-sign or erase a head.
    # Unset, both live in the seal directory of this database (see `seal_home`).
    seal_key_file: Path | None = None
    witness_dir: Path | None = None
    # 建設業振興基金's business ID: the prime of every training-institution site (None: no
    # training site can be declared until it is set).
    promotion_fund_business_id: str | None = None
    # Qualifications expiring within this many days are listed in the expiry alerts.
    qualification_alert_days: int = 30
    # The key that signs the gate codes phones scan (phone entry): outside the database too.
    gate_code_key_file: Path | None = None
    # How long an as-of replay's answer is kept after the job ends (api/replays.py); then the
    # job is removed and its status URL answers 404.
    replay_keep_hours: float = Field(default=24.0, gt=0)
    # Read replicas (PostgreSQL hot standbys of this database), comma-separated URLs: the API's
    # query routes read there; writes, the projection and the jobs stay on the primary. Empty:
    # every read on the primary. See `api.reading.ReadPool`.
    read_database_urls: str = ""
    # A standby whose replay is further behind the primary than this is not read from.
    read_replica_max_lag_seconds: float = Field(default=5.0, gt=0)
    # How often each process measures its standbys' lag (one small query on each, and one on
    # the primary), and how long a standby that failed is left alone before it is tried again.
    read_replica_check_seconds: float = Field(default=1.0, gt=0)
    read_replica_retry_seconds: float = Field(default=5.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        # Empty is unset (`LEDGER_DATABASE_URL=`): SQLite in the data directory.
        if value and not value.startswith(("sqlite:", "postgresql:", "postgres:")):
            raise ValueError("LEDGER_DATABASE_URL must start with sqlite: or postgresql:")
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir.resolve() / 'ledger.db'}"
        return self

    @model_validator(mode="after")
    def _replicas_of_postgres(self) -> Settings:
        for url in self.read_urls:
            if not url.startswith(("postgresql:", "postgres:")):
                raise ValueError(f"LEDGER_READ_DATABASE_URLS: {url!r} is not a postgresql: URL")
        if self.read_urls and not self.is_postgres:
            raise ValueError("LEDGER_READ_DATABASE_URLS needs PostgreSQL: a read replica is a "
                             "hot standby of a PostgreSQL primary, and LEDGER_DATABASE_URL is "
                             "SQLite")
        return self

    @property
    def read_urls(self) -> list[str]:
        """The read replicas' URLs (`read_database_urls`, comma-separated)."""
        return [url.strip() for url in self.read_database_urls.split(",") if url.strip()]

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

    def database_home(self, kind: str) -> Path:
        """Where this database's files of a kind (settlements, replays) live unless set: beside
        a SQLite file (``ledger.db.settlements``), or ``<data_dir>/<kind>/<host>-<port>-<db>`` for
        PostgreSQL, so two databases used from one checkout never share them."""
        if not self.is_postgres:
            return Path(f"{self.sqlite_path}.{kind}")
        params = postgres_params(self.database_url)
        return self.data_dir / kind / f"{params['host']}-{params['port']}-{params['dbname']}"

    @property
    def settlement_home(self) -> Path:
        return self.database_home("settlements")

    @property
    def replay_home(self) -> Path:
        return self.database_home("replays")

    @property
    def seal_home(self) -> Path:
        """Where a database's seal key and witness live unless set: beside a SQLite file
        (``ledger.db.seals``), or ``<data_dir>/seals/<host>-<port>-<database>`` for PostgreSQL,
        so two databases never share a key or a witness."""
        return self.database_home("seals")

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
