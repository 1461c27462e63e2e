"""Settings of the HTTP API (LEDGER_API_*), read once. The database comes from `ledger.settings`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_API_", extra="ignore")

    max_body_bytes: int = 8 * 1024 * 1024  # a larger request body is answered 413
    # How long a process trusts "reader R is registered to site S and not retired". A retired
    # reader's taps are refused at most this long after the retirement.
    reader_cache_seconds: float = 30.0
    # Run the projection in this process (one process per database projects at a time; the
    # others stand by). Off when a separate `ledger project --follow` keeps the read models.
    projection: bool = True
    # Run the nightly jobs' scheduler (day close, expiry, seal, settlement, site fees). Off by
    # default; `ledger serve` turns it on unless LEDGER_API_SCHEDULER says otherwise.
    scheduler: bool = False
    # Read-your-writes: how long a query waits for the projection to reach `min_position`.
    read_wait_seconds: float = Field(default=5.0, ge=0, le=60)
    # Read-model connections per process, and so its queries that read at once; a query waits
    # this long for one, then answers 503. Few: the reads are short, and more threads reading in
    # one process than the machine has cores mostly contend for the interpreter.
    read_connections: int = Field(default=4, ge=1, le=200)
    read_connection_wait_seconds: float = Field(default=10.0, gt=0)
    # As-of replays (auditors) are projected into SQLite files here, then deleted.
    # Unset: the database's own folder (`Settings.replay_home`).
    replay_dir: Path | None = None
    # As-of replays running at once, across the API's processes on one database (each reads the
    # log and writes a file as large as the read models); more requests wait in the queue.
    replays_at_once: int = Field(default=1, ge=1, le=32)


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    return ApiSettings()
