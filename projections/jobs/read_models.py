"""The nightly read-model check (`verify-read-models`): the read models rebuilt from the log must
equal the live ones (``projections.read_model_check``). A difference fails the run, recorded in
``job_runs`` with what it found, so ``/v1/ready`` and ``ledger job-runs`` show it."""

from __future__ import annotations

from typing import Any

from ledger.application import Ledger
from ledger.settings import Settings
from projections.jobs.runs import JobFindings
from projections.read_model_check import (
    DEFAULT_LIMIT,
    ReadModelCheck,
    check_read_models,
    drop_stale_shadows,
)


class ReadModelsDiffer(JobFindings):
    """The check found differences; its message names the first (values included, so it is
    shown only where a key or the operator's shell is needed: `ledger job-runs`, the log)."""

    def __init__(self, check: ReadModelCheck) -> None:
        super().__init__(check.summary(), check.counts())
        self.check = check


def verify_read_models(
    ledger: Ledger, settings: Settings, limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    """Run the check; raise `ReadModelsDiffer` if the read models differ from the log. Runs
    under the job's lock, so a shadow left by a check that died can be dropped first."""
    drop_stale_shadows(settings)
    check = check_read_models(ledger, settings, limit=limit)
    if not check.equal:
        raise ReadModelsDiffer(check)
    return check.counts()
