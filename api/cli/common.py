"""Shared CLI plumbing: the typer app, the acting party, the ledger, and error reporting."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Annotated, Any, ParamSpec, TypeVar

import psycopg
import typer
from eventsourcing.persistence import PersistenceError
from rich.console import Console, ConsoleDimensions
from rich.markup import escape

from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.domain.text import check_text
from ledger.errors import InvalidValue, LedgerError
from ledger.settings import get_settings, postgres_params

app = typer.Typer(
    help="CCUS attendance ledger (就業履歴台帳).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class _CliConsole(Console):
    """Wraps to $COLUMNS or the terminal, read at each print (not once at import); piped output
    with neither is not wrapped, so a script or a log reading it gets whole lines."""

    PIPED_WIDTH = 1000

    def __init__(self, stderr: bool = False) -> None:
        super().__init__(stderr=stderr)
        self._width = None  # rich fixes $COLUMNS at construction otherwise

    @property
    def size(self) -> ConsoleDimensions:
        measured = super().size
        if "COLUMNS" not in os.environ and not self.is_terminal:
            return ConsoleDimensions(self.PIPED_WIDTH, measured.height)
        return measured

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


console = _CliConsole()
err_console = _CliConsole(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

ActingAs = Annotated[
    str, typer.Option("--as", help="Acting party 'role:id', e.g. prime_contractor:100 or admin:ops")
]


def parse_actor(text: str) -> Actor:
    role, _, actor_id = text.partition(":")
    check_text(actor_id, "--as")
    try:
        return Actor(Role(role), actor_id)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidValue("--as", "actor.format", f"{text!r} is not 'role:id' ({roles})") from None


@contextmanager
def open_ledger() -> Iterator[Ledger]:
    ledger = Ledger(get_settings())
    try:
        yield ledger
    finally:
        ledger.close()


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print a refused command's reason (field and rule) and exit 2; nothing was written."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except LedgerError as error:
            err_console.print(
                f"[red]refused[/red] {escape(error.field)}: {escape(error.message)} "
                f"(rule {escape(error.rule)})"
            )
            sys.exit(2)
        except (PersistenceError, sqlite3.Error, psycopg.Error) as error:
            # The database's own refusals (not migrated, unreachable, unwritable) are one line
            # each, like the ledger's: a traceback adds nothing an operator can act on.
            err_console.print(f"[red]database error[/red] {escape(describe_database_error(error))}")
            sys.exit(3)

    return wrapper


def describe_database_error(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    cause = error.__cause__ or error.__context__
    missing = (isinstance(error, psycopg.errors.UndefinedTable)
               or isinstance(cause, psycopg.errors.UndefinedTable)
               or "no such table" in text)
    where = database_name()
    if missing:
        return (f"{text.splitlines()[0]} in {where}: the database is not migrated; "
                "run `ledger migrate` first")
    return f"{text} ({where})"


def database_name() -> str:
    """The database in use, without a password: SQLite's file, or PostgreSQL's host:port/db."""
    settings = get_settings()
    if not settings.is_postgres:
        return settings.sqlite_path
    params = postgres_params(settings.database_url)
    return f"{params['host']}:{params['port']}/{params['dbname']}"


def command(
    name: str | None = None, group: typer.Typer = app, **kwargs: Any
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        group.command(name, **kwargs)(reports_errors(function))
        return function

    return decorate
