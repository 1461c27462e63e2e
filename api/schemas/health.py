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
    counts: dict[str, Any] = Field(description="The run's figures; a billing job's "
                                   "(settle-kentaikyo, bill-site-fees) only with an auditor's "
                                   "or admin's key, else empty")


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


class ReadModelCheckPublic(BaseModel):
    """The latest read-model check that ended (`ledger verify --read-models` or the nightly
    `verify-read-models`). Where no key is needed, a difference is named by its table and column
    only, without the key's values (they may name a worker): `ledger job-runs` shows them."""

    outcome: Literal["equal", "differ", "failed"] = Field(
        description="equal: the read models equal the log; differ: they do not; failed: the "
        "check did not finish")
    at: datetime | None = Field(description="When the check ended")
    position: int | None = Field(description="The log position the read models were compared at")
    tables: int | None = Field(description="Read-model tables compared")
    rows: int | None = Field(description="Live rows compared")
    differing_groups: int | None = Field(description="Groups (a worker, a site, a month …) whose "
                                         "rows differ")
    first_difference_table: str | None
    first_difference_column: str | None = Field(
        description="None for a row found on one side only")

    @classmethod
    def from_run(cls, run: Any) -> ReadModelCheckPublic | None:
        """From the job run that recorded it (`projections.jobs.runs.JobRun`)."""
        if run is None:
            return None
        counts, first = run.counts, run.counts.get("first_difference") or {}
        outcome: Literal["equal", "differ", "failed"]
        if run.outcome == "succeeded":
            outcome = "equal"
        elif "differing_groups" in counts:
            outcome = "differ"
        else:
            outcome = "failed"
        return cls(outcome=outcome, at=run.finished_at, position=counts.get("position"),
                   tables=counts.get("tables"), rows=counts.get("rows"),
                   differing_groups=counts.get("differing_groups"),
                   first_difference_table=first.get("table"),
                   first_difference_column=first.get("column"))


class ReadReplicaPublic(BaseModel):
    number: int = Field(description="Its place in LEDGER_READ_DATABASE_URLS, from 1")
    state: Literal["read", "behind", "down"] = Field(
        description="read: within the lag bound, queries read there; behind: further behind, "
        "not measured yet, or not a hot standby; down: failing, tried again later")
    lag_seconds: float | None = Field(description="Its last measured replay lag (null: none)")


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
    # The read side's self-check. A difference does not make the service non-ready: see README.
    read_model_check: ReadModelCheckPublic | None = Field(
        default=None, description="The latest read-model check; none has ended yet: null")
    # A standby not read from does not make the service non-ready: the primary answers.
    read_replicas: list[ReadReplicaPublic] = Field(
        default_factory=list, description="The read replicas as this process sees them (none "
        "configured: empty); queries read the primary when none is `read`")
