"""Every `ledger` command module is listed in `api.cli.commands`, the one place a reader finds
them: a module left out would add no command at all."""

from __future__ import annotations

import pkgutil

import api.cli
from api.cli.commands import COMMAND_MODULES

NOT_COMMANDS = {"common", "commands"}  # the shared plumbing and the list itself


def test_every_command_module_is_listed() -> None:
    in_package = {m.name for m in pkgutil.iter_modules(api.cli.__path__)} - NOT_COMMANDS
    listed = {module.__name__.rsplit(".", 1)[1] for module in COMMAND_MODULES}
    assert listed == in_package


def test_the_listed_modules_register_the_top_level_commands() -> None:
    from api.cli.common import app

    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert {"migrate", "serve", "project", "scheduler", "keys", "entry", "worker",
            "audit", "quarantine"} <= names
