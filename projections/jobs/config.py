"""When and where the nightly jobs run, read once from the environment (LEDGER_JOBS_*).

Times are wall-clock times in `timezone` (Asia/Tokyo: the rules' deadlines are JST).
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class JobSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_JOBS_", extra="ignore")

    timezone: str = "Asia/Tokyo"
    close_day_at: time = time(2, 0)  # 日締め of the previous day
    expire_entries_at: time = time(2, 30)  # 直接入力 past their deadline
    seal_at: time = time(3, 0)  # after the day close, whose events it then covers next night
    verify_read_models_at: time = time(3, 30)  # rebuild from the log and compare (daily)
    settle_day: int = Field(default=10, ge=1, le=28)  # day of the month; 28 exists every month
    settle_at: time = time(4, 0)  # 建退共 settlement of the previous month
    bill_day: int = Field(default=10, ge=1, le=28)
    bill_at: time = time(4, 30)  # 現場利用料 of the previous month
    misfire_grace_seconds: int = 6 * 3600  # a run missed by less than this still runs
    catch_up_days: int = Field(default=7, ge=1)  # how far back a restart closes missed days
    catch_up_months: int = Field(default=3, ge=1)  # … and settles or bills missed months
    lock_ttl_seconds: int = 2 * 3600  # a SQLite lock row older than this is taken over
    # Issued CSV / xlsx files. Unset: the database's own folder (`Settings.settlement_home`), so
    # two databases never write into each other's months.
    output_dir: Path | None = None
