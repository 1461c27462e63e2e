"""The `ledger` command line. Each module in this package adds its own commands to `app`."""

from __future__ import annotations

import importlib
import pkgutil

from api.cli.common import app


def main() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name != "common":
            importlib.import_module(f"{__name__}.{module.name}")
    app()
