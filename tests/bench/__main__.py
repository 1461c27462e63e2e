"""Run every benchmark section. Sections that other parts add register in SECTIONS."""

from __future__ import annotations

import importlib
import platform
import sys
from datetime import datetime

SECTIONS = [
    "tests.bench.ingest",
    "tests.bench.projections",
    "tests.bench.api",
    "readers.bench",
    "tests.bench.settlement",
    "tests.bench.proofs",
    "tests.bench.kentaikyo_accounts",
    "tests.bench.working_time",
    "tests.bench.replicas",
    "tests.bench.storage",
]


def main() -> None:
    print(
        f"make bench — {datetime.now().isoformat(timespec='seconds')} — "
        f"{platform.node()} {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}"
    )
    only = sys.argv[1:]
    for name in SECTIONS:
        if only and not any(part in name for part in only):
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name == name:
                print(f"\n== {name}: not built yet")
                continue
            raise
        if name == "readers.bench":
            from tests.bench import report

            module.run(report)
        else:
            module.run()


if __name__ == "__main__":
    main()
