"""`ledger keys …` for bootstrapping scoped keys, on both databases: a site manager's key with
its sites, an expiry and the grant; `keys expire` and `keys events`; bad options exit 2 naming
the option, and nothing is written."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

import api.cli.keys  # noqa: F401  (registers the `keys` commands)
from api.cli.common import app as cli
from ledger.actors import Role, Scope
from ledger.settings import Settings, get_settings
from ledger.storage.keys import KeyStore

TOKEN = re.compile(r"^ldg_[0-9a-f]{16}_\S+$", re.MULTILINE)
SITE = "10000000000001"


@pytest.fixture(name="store")
def store_fixture(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyStore]:
    monkeypatch.setenv("LEDGER_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    store = KeyStore(settings)
    yield store
    store.close()
    get_settings.cache_clear()


def test_a_site_managers_key_from_the_command_line(store: KeyStore) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, [
        "keys", "create", "--role", "site_manager", "--business", "100", "--site", SITE,
        "--approves", "--expires-at", "2099-01-01T00:00:00+09:00", "--holder", "所長"])
    assert created.exit_code == 0, created.output
    (token,) = TOKEN.findall(created.output)
    actor = store.authenticate(token)
    assert actor is not None and actor.role is Role.SITE_MANAGER and actor.id == "100"
    assert actor.scope == Scope(sites=frozenset({SITE}), approves=True)
    key_id = token.split("_")[1]
    assert store.get(key_id).holder == "所長"
    listed = runner.invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0 and key_id in listed.output and token not in listed.output

    expired = runner.invoke(cli, ["keys", "expire", key_id])
    assert expired.exit_code == 0, expired.output
    assert store.authenticate(token) is None
    events = runner.invoke(cli, ["keys", "events"])
    assert events.exit_code == 0, events.output
    assert [(e.kind, e.actor) for e in store.events([key_id])] == [
        ("issued", "cli:operator"), ("expired", "cli:operator")]


@pytest.mark.parametrize(("arguments", "named"), [
    (["--role", "site_manager", "--business", "100"], "scope.sites"),
    (["--role", "employer", "--business", "100", "--site", "12"], "site_id"),
    (["--role", "employer", "--business", "100", "--approves", "--site", SITE],
     "scope.approves"),
    (["--role", "worker", "--worker", "12345678901234", "--site", SITE], "scope"),
    (["--role", "employer", "--business", "100", "--expires-at", "2020-01-01T00:00:00+09:00"],
     "--expires-at"),
    (["--role", "employer", "--business", "100", "--expires-at", "2099-01-01T00:00:00"],
     "--expires-at"),
], ids=["manager-without-sites", "malformed-site", "employer-granted", "worker-scoped",
        "past-expiry", "naive-expiry"])
def test_bad_key_options_exit_2_naming_the_field(
        store: KeyStore, arguments: list[str], named: str) -> None:
    before = (len(store.list()), len(store.events()))
    done = CliRunner().invoke(cli, ["keys", "create", *arguments])
    assert done.exit_code == 2, done.output
    assert named in done.output
    assert (len(store.list()), len(store.events())) == before
