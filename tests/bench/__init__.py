"""`make bench`: figures next to a raw-PostgreSQL baseline measured in the same run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from tests import pg

ROWS: list[tuple[str, str, str, str]] = []


def report(name: str, value: float, unit: str, note: str = "") -> None:
    ROWS.append((name, f"{value:,.1f}", unit, note))
    print(f"  {name:<58} {value:>14,.1f} {unit:<10} {note}", flush=True)


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


@contextmanager
def bench_database(prefix: str) -> Iterator[str]:
    """A throwaway PostgreSQL database on the bench server (LEDGER_BENCH_POSTGRES_URL)."""
    if "LEDGER_BENCH_POSTGRES_URL" in os.environ:
        os.environ.setdefault("LEDGER_TEST_POSTGRES_URL", os.environ["LEDGER_BENCH_POSTGRES_URL"])
    with pg.fresh_database(prefix) as url:
        yield url
