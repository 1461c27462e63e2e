"""As-of replays for auditors, run as jobs: the log up to a moment, projected into a SQLite file
of its own under `replay_dir` (the live read models are untouched), asked, then deleted.

A request is a row in `replay_jobs` (`api.replay_jobs`), answered at once with its status URL.
Each API process runs `replays_at_once` worker threads, which claim the oldest queued job while
fewer than `replays_at_once` run in all the processes on the database; the others wait, queued.
While it runs a job counts the events it has read toward the cut (`projections.replay.cut_at`);
its answer, or why it failed, is kept `LEDGER_REPLAY_KEEP_HOURS` after it ends, then removed.

A job whose process died is failed, not left running: at the start of every process, and every
`tend` after, a running job is failed when its process is known gone (same host, its PID not
alive) or has not stamped it for `STALE` (another host). A process that stops cleanly gives its
running jobs back to the queue, for another process (or its own next start) to run afresh.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from api.problems import kind_of
from api.reading import projection_position
from api.replay_jobs import ReplayJob, ReplayJobs, ReplayRequest
from api.schemas.audit import ReplayPublic
from api.schemas.careers import CareerSummaryPublic
from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.errors import LedgerError
from projections.queries import career_summary
from projections.queries.scopes import worker_scope
from projections.replay import cut_at, replay_as_of
from projections.store import ReadStore

log = logging.getLogger("api.replays")
# A running job is stamped every `tend` (every POLL_SECONDS); one unstamped this long is taken
# for abandoned by a process on another host.
POLL_SECONDS = 2.0
STALE = timedelta(minutes=2)


class Replays:
    def __init__(self, ledger: Ledger, directory: Path, keep: timedelta, at_once: int,
                 poll_seconds: float = POLL_SECONDS) -> None:
        self.ledger = ledger
        self.directory = directory
        self.keep = keep
        self.at_once = at_once
        self.poll_seconds = poll_seconds
        self.jobs = ReplayJobs(ledger.settings)
        self.host = socket.gethostname()
        self.owner = f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- requests -----------------------------------------------------------------------------
    def request(self, actor: Actor, request: ReplayRequest) -> ReplayJob:
        replay_id = uuid.uuid4().hex
        self.jobs.add(replay_id, str(actor), request, clock.now())
        self._wake.set()
        job = self.jobs.find(replay_id, clock.now())
        assert job is not None
        return job

    def find(self, replay_id: str) -> ReplayJob | None:
        return self.jobs.find(replay_id, clock.now())

    def of(self, actor: Actor, before: tuple[datetime, str] | None,
           limit: int) -> list[ReplayJob]:
        return self.jobs.of_requester(str(actor), clock.now(), before, limit)

    # -- the workers ----------------------------------------------------------------------------
    def start(self) -> None:
        self.tend()
        for n in range(self.at_once):
            thread = threading.Thread(target=self._work, name=f"replay-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        keeper = threading.Thread(target=self._keep, name="replay-keeper", daemon=True)
        keeper.start()
        self._threads.append(keeper)

    def stop(self) -> None:
        """Stop the workers: a replay running is stopped at its next batch and given back."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join()
        try:
            self.jobs.requeue(self.owner)
        except Exception:  # the database is gone: the next start fails the job instead
            log.exception("as-of replays: could not give back the jobs of %s", self.owner)
        finally:
            self.jobs.close()

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.jobs.claim(self.owner, self.at_once, clock.now())
                if job is not None:
                    self.run(job)
                    continue
            except Exception:  # the database went away: the next turn tries again
                log.exception("as-of replays: a job could not be claimed or ended")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _keep(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.tend()
            except Exception:
                log.exception("as-of replays: tending the jobs failed; trying again")

    def tend(self) -> None:
        """Stamp this process's running jobs, fail those whose process is gone, remove those
        kept their time, and wake a worker if any job waits."""
        now = clock.now()
        self.jobs.beat(self.owner, now)
        for job in self.jobs.running():
            if job.owner != self.owner and self._abandoned(job, now):
                failure = {"status": 500, "rule": "replay.abandoned", "detail": (
                    f"the process running it ({job.owner}) stopped before it finished; "
                    "ask for the replay again")}
                if self.jobs.abandon(job.replay_id, job.owner, now, now + self.keep, failure):
                    log.warning("as-of replay %s failed: its process %s is gone",
                                job.replay_id, job.owner)
                    if job.owner and job.owner.split(":")[0] == self.host:
                        self._remove_files(job.replay_id)
        self.jobs.remove_expired(now)
        if self.jobs.queued():
            self._wake.set()

    def _abandoned(self, job: ReplayJob, now: datetime) -> bool:
        if job.heartbeat_at is None or job.heartbeat_at < now - STALE:
            return True
        host, pid, _ = (job.owner or "::").split(":")
        if host != self.host or not pid.isdigit():
            return False
        if int(pid) == os.getpid():
            return True  # this process, an earlier app (the owner is not ours)
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False  # alive, another user's
        return False

    # -- one job --------------------------------------------------------------------------------
    def run(self, job: ReplayJob) -> None:
        """Replay up to the job's moment and keep the answer (or why it failed)."""
        live = ReadStore(self.ledger.settings)
        path = self.directory / f"as-of-{job.replay_id}.db"
        try:
            cut = cut_at(self.ledger, live, job.as_of)
            self.jobs.cut(job.replay_id, self.owner, cut.position, cut.events)
            self.directory.mkdir(parents=True, exist_ok=True)
            store = replay_as_of(self.ledger, job.as_of, path, cut=cut,
                                 progress=lambda read: self._progressed(job, read))
            try:
                result = replayed_career(job, store)
            finally:
                store.close()
            self.jobs.finish(job.replay_id, self.owner, clock.now(), clock.now() + self.keep,
                             result=result)
        except Stopped:
            pass  # given back to the queue by `stop`
        except LedgerError as refused:  # e.g. the worker was not registered yet then
            self._failed(job, {"status": _status(refused), "field": refused.field,
                               "rule": refused.rule,
                               "detail": f"{refused.field}: {refused.message}"})
        except Exception as error:
            log.exception("as-of replay %s failed", job.replay_id)
            self._failed(job, {"status": 500, "rule": "replay.error",
                               "detail": f"the replay failed: {type(error).__name__}: {error}"})
        finally:
            live.close()
            self._remove_files(job.replay_id)

    def _progressed(self, job: ReplayJob, events: int) -> None:
        if self._stop.is_set():
            raise Stopped
        self.jobs.progressed(job.replay_id, self.owner, events, clock.now())

    def _failed(self, job: ReplayJob, failure: dict[str, Any]) -> None:
        now = clock.now()
        self.jobs.finish(job.replay_id, self.owner, now, now + self.keep, failure=failure)

    def _remove_files(self, replay_id: str) -> None:
        path = self.directory / f"as-of-{replay_id}.db"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


class Stopped(Exception):
    """The process is stopping: the replay running gives up its job."""


def requester(job: ReplayJob) -> Actor:
    role, _, actor_id = job.requested_by.partition(":")
    return Actor(Role(role), actor_id)


def replayed_career(job: ReplayJob, store: ReadStore) -> dict[str, Any]:
    """The worker's career summary in the replayed read models, read as the requester may
    (a worker not registered by then: absent, 404)."""
    with store.read() as tx:
        worker_scope(tx, requester(job), job.technician_id)
        summary = career_summary(tx, job.technician_id, job.date_from, job.date_to)
        position = projection_position(tx)
    answer = ReplayPublic(as_of=job.as_of, events_replayed_through=position,
                          career=CareerSummaryPublic.of(summary, position))
    return answer.model_dump(mode="json")


def _status(error: LedgerError) -> int:
    return kind_of(error).status
