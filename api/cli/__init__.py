"""The `ledger` command line. Every command module is listed in `api.cli.commands`."""

from __future__ import annotations


def main() -> None:
    # Imported here, not at the package's import, so that a test importing one command module
    # does not load the server's (`serve`) along with it.
    from api.cli.commands import app
    from api.logs import configure_logging

    configure_logging()  # the jobs', the projection's and the server's loggers (LEDGER_LOG_*)
    app()
