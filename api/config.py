"""Settings of the HTTP API (LEDGER_API_*), read once. The database comes from `ledger.settings`."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_API_", extra="ignore")

    max_body_bytes: int = 8 * 1024 * 1024  # a larger request body is answered 413
    # How long a process trusts "reader R is registered to site S and not retired". A retired
    # reader's taps are refused at most this long after the retirement.
    reader_cache_seconds: float = 30.0


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    return ApiSettings()
