"""As-of replays for auditors: the log up to a moment, projected into a SQLite file of its own
under `replay_dir` (the live read models are untouched), asked, then deleted. One at a time per
process: a second request while one runs is answered 503 Busy with Retry-After."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from api.problems import Busy
from ledger.application import Ledger
from projections.replay import replay_as_of
from projections.store import ReadStore


class Replays:
    def __init__(self, ledger: Ledger, directory: Path) -> None:
        self.ledger = ledger
        self.directory = directory
        self._running = threading.Lock()

    @contextmanager
    def as_of(self, moment: datetime) -> Iterator[ReadStore]:
        """The read models as they were at `moment` (events recorded up to it)."""
        if not self._running.acquire(blocking=False):
            raise Busy("an as-of replay is running already; try again when it is done")
        path = self.directory / f"as-of-{uuid.uuid4().hex}.db"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            store = replay_as_of(self.ledger, moment, path)
            try:
                yield store
            finally:
                store.close()
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            self._running.release()
