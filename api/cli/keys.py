"""API keys for the HTTP API: create (the token is printed once), list, revoke; and a cipher key."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import app, command, console
from ledger import clock
from ledger.actors import Role, Scope
from ledger.errors import InvalidValue
from ledger.settings import get_settings
from ledger.storage.keys import KeyStore
from ledger.storage.migrate import migrate

keys = typer.Typer(help="API keys: bearer tokens for the HTTP API.", no_args_is_help=True)
app.add_typer(keys, name="keys")

SUBJECT_OPTION = {
    Role.READER: "--reader", Role.PRIME_CONTRACTOR: "--business", Role.EMPLOYER: "--business",
    Role.SITE_MANAGER: "--business", Role.WORKER: "--worker", Role.AUDITOR: "--name",
    Role.ADMIN: "--name", Role.ORDERER: "--business",
}


@contextmanager
def open_keys() -> Iterator[KeyStore]:
    settings = get_settings()
    migrate(settings)  # idempotent: the api_keys table exists from here on
    store = KeyStore(settings)
    try:
        yield store
    finally:
        store.close()


def subject_for(role: Role, given: dict[str, str | None]) -> str:
    """The one option that names what this role acts as."""
    expected = SUBJECT_OPTION.get(role)
    if expected is None:
        raise InvalidValue("--role", "key.role", f"{role.value} keys are not issued")
    extra = sorted(option for option, value in given.items() if value and option != expected)
    if extra or not given.get(expected):
        others = f", not {', '.join(extra)}" if extra else ""
        raise InvalidValue(expected, "key.subject", f"a {role.value} key needs {expected}{others}")
    return str(given[expected])


@command("create", group=keys)
def create_key(
    role: Annotated[Role, typer.Option(help="What the key acts as")],
    business: Annotated[str | None, typer.Option(help="Business ID (prime, employer, site "
                                                      "manager)")] = None,
    worker: Annotated[str | None, typer.Option(help="Technician ID (worker)")] = None,
    reader: Annotated[str | None, typer.Option(help="Reader ID (reader)")] = None,
    name: Annotated[str | None, typer.Option(help="A person's name (auditor, admin)")] = None,
    site: Annotated[list[str] | None, typer.Option(
        help="Scope the key to this site (repeat; 管理者 of sites, 現場管理者)")] = None,
    scope_worker: Annotated[list[str] | None, typer.Option(
        help="Scope the key to this worker (repeat; 管理者 of workers)")] = None,
    approves: Annotated[bool, typer.Option(
        help="A site manager may decide manual entries and corrections (the prime's grant)")
    ] = False,
    expires_at: Annotated[str | None, typer.Option(
        help="ISO 8601 with offset; none: the key never expires (bootstrap keys)")] = None,
    holder: Annotated[str | None, typer.Option(help="The person the key is given to")] = None,
) -> None:
    """Create a key; its token is printed once (only a hash is stored)."""
    subject = subject_for(role, {"--business": business, "--worker": worker, "--reader": reader,
                                 "--name": name})
    scope = Scope(sites=frozenset(site) if site else None,
                  workers=frozenset(scope_worker) if scope_worker else None, approves=approves)
    expiry = None if expires_at is None else clock.parse_datetime(expires_at, "--expires-at")
    if expiry is not None and expiry <= clock.now():
        raise InvalidValue("--expires-at", "key.expires_at.future", "must be in the future")
    with open_keys() as store:
        issued = store.create(role, subject, scope=scope, expires_at=expiry, holder=holder)
    console.print(f"key {issued.key.key_id} created for {role.value}:{subject}. "
                  "The token is shown only now; keep it secret:", highlight=False)
    print(issued.token)


@command("list", group=keys)
def list_keys() -> None:
    """List keys (never their tokens)."""
    table = Table("role", "subject", "scope", "created at", "expires at", "revoked at")
    table.add_column("key id", no_wrap=True, min_width=16)  # what revoke and expire take
    with open_keys() as store:
        for key in store.list():
            table.add_row(key.role.value, key.subject_id, _scope(key.scope),
                          _jst(key.created_at), _jst(key.expires_at), _jst(key.revoked_at),
                          key.key_id)
    console.print(table)


def _scope(scope: Scope) -> str:
    members = sorted(scope.sites or scope.workers or ())
    kind = "sites" if scope.sites is not None else "workers" if scope.workers else ""
    return f"{kind} {','.join(members)}{' (approves)' if scope.approves else ''}".strip()


def _jst(moment: datetime | None) -> str:
    return moment.astimezone(clock.JST).isoformat(timespec="seconds") if moment else ""


@command("revoke", group=keys)
def revoke_key(key_id: str) -> None:
    """Revoke a key: its token is refused (401) from the next request on."""
    with open_keys() as store:
        key = store.revoke(key_id)
    console.print(f"key {key.key_id} ({key.role.value}:{key.subject_id}) revoked")


@command("expire", group=keys)
def expire_key(key_id: str) -> None:
    """End a key's life now: its token is refused (401) from the next request on."""
    with open_keys() as store:
        key = store.expire(key_id)
    console.print(f"key {key.key_id} ({key.role.value}:{key.subject_id}) expired")


@command("events", group=keys)
def key_events() -> None:
    """Every issue, expiry and revocation of a key, oldest first."""
    table = Table("recorded at", "key id", "event", "by", "with key")
    with open_keys() as store:
        for event in store.events():
            table.add_row(_jst(event.recorded_at), event.key_id, event.kind, event.actor,
                          event.by_key_id or "")
    console.print(table)


@command("cipher", group=keys)
def cipher_key() -> None:
    """Print a new AES-256 key for LEDGER_CIPHER_KEY (events encrypted at rest)."""
    print(base64.b64encode(secrets.token_bytes(32)).decode())
