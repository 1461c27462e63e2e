"""The `ledger` command line. Every command module is listed in `api.cli.commands`."""

from __future__ import annotations


def main() -> None:
    # Imported here, not at the package's import, so that a test importing one command module
    # does not load the server's (`serve`) along with it.
    from api.cli.commands import app

    app()
