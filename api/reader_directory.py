"""Which site an active gate reader belongs to: looked up in the ledger, kept briefly per process.

Every tap request from a reader key asks this, so the answer is cached for
`ApiSettings.reader_cache_seconds`; only active readers are cached, so a reader registered after
its key was made is recognised at once. Retiring a reader through this process forgets it at once;
other processes stop accepting its taps when their entry expires.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ledger.application import Ledger
from ledger.errors import LedgerError, NotPermitted
from projections.tap_answers import active_reader_site


class ReaderDirectory:
    def __init__(
        self, ledger: Ledger, ttl_seconds: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.ledger = ledger
        self.ttl_seconds = ttl_seconds
        self._monotonic = monotonic
        self._active: dict[str, tuple[str, float]] = {}  # reader ID → (site ID, expires)

    def active_site(self, reader_id: str) -> str:
        """The site of a registered reader that is not retired; raises UnknownReference (absent)
        or NotPermitted (retired) otherwise."""
        now = self._monotonic()
        cached = self._active.get(reader_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            site_id = active_reader_site(self.ledger, reader_id)
        except NotPermitted:
            self._active.pop(reader_id, None)
            raise
        self._active[reader_id] = (site_id, now + self.ttl_seconds)
        return site_id

    def site_of(self, reader_id: str) -> str | None:
        """The site of an active reader, or None."""
        try:
            return self.active_site(reader_id)
        except LedgerError:
            return None

    def forget(self, reader_id: str) -> None:
        self._active.pop(reader_id, None)
