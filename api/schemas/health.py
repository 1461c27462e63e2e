"""Liveness and readiness."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.lists import PublicModel


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class JobRunPublic(PublicModel):
    """One run of a nightly job (day close, expiry, seal, settlement, site fees). A failure's
    message is not shown here, where no key is needed (it may name a worker): `ledger job-runs`
    shows it."""

    run_id: str
    job: str
    period: str
    owner: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str = Field(description="running, succeeded or failed")
    counts: dict[str, Any]


class QuarantinedEventPublic(PublicModel):
    """An event the projection could not project and went on without (`ledger quarantine
    list` shows its error's message, which may name a worker: not shown here)."""

    position: int = Field(description="Its log position")
    event_type: str = Field(description="e.g. Tap.Recorded")
    error_kind: str = Field(description="The failure's kind, e.g. OverflowError")
    technician_id: str | None = Field(description="The worker it is about, if known")
    site_id: str | None = Field(description="The site it is about, if known")
    first_seen_at: datetime
    attempts: int = Field(description="How many times it was tried")


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    log_position: int = Field(description="The log's head (the last event's position)")
    projection_position: int = Field(description="How far the read models have come")
    lag_events: int = Field(description="Events not projected yet")
    lag_seconds: float = Field(description="Age of the oldest event not projected yet (0: none)")
    projecting_here: bool = Field(description="This process runs the projection (one per "
                                  "database does; the others stand by)")
    projection_error: str | None = Field(
        description="The kind of the projection's failure since its last committed batch, if "
        "any, whichever process projects. Its message is in that process's log: not shown "
        "here, where no key is needed (it may name a worker)")
    projection_failed_at: datetime | None = Field(description="When it failed last")
    projection_failed_in: str | None = Field(description="Where: host:pid of the process")
    quarantined: list[QuarantinedEventPublic] = Field(
        description="Events the projection could not project and went on without, in log order "
        "(the first 100); reads about their workers and sites carry a `Ledger-Incomplete` "
        "header. Empty here: while any is, /v1/ready answers 503 (problem not-ready)")
    scheduler_running: bool = Field(description="This process runs the nightly jobs' scheduler")
    job_runs: list[JobRunPublic] = Field(description="The latest job runs, newest first")
