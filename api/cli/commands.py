"""Every `ledger` command module, each adding its commands to `app` when imported.

A new command module is added here; `ledger --help` lists commands in this order.
"""

from __future__ import annotations

from types import ModuleType

from api.cli import (
    audit,
    career_proof,
    core,
    exceptions,
    jobs,
    kentaikyo,
    keys,
    projections,
    register,
    requests,
    seals,
    serve,
    working_time,
)
from api.cli.common import app

COMMAND_MODULES: tuple[ModuleType, ...] = (
    audit,  # audit …
    core,  # migrate, tap, import-taps, events
    exceptions,  # site assign-card, site resolve-exit
    jobs,  # close-day, expire-entries, seal, verify, job-runs, scheduler, settle …, bill …
    keys,  # keys …
    projections,  # project, replay, quarantine …
    register,  # business …, worker …, site …, reader …, card …
    requests,  # entry …
    seals,  # seal-key …, seal-consistency, verify-consistency
    serve,  # serve
    career_proof,  # career-proof, verify-proof
    kentaikyo,  # kentaikyo …, site require-…, worker insurance, worker qualification-expiry
    working_time,  # working-time …
)

__all__ = ["COMMAND_MODULES", "app"]
