"""Fixtures shared by the whole suite: a migrated ledger on SQLite or PostgreSQL, and a clock."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from ledger import clock
from ledger.actors import Actor, Role
from ledger.application import Ledger
from ledger.settings import Settings
from ledger.storage.migrate import migrate
from tests import pg, sqlite_template

ADMIN = Actor(Role.ADMIN, "test")
TEST_CIPHER_KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = "postgres_url" in getattr(item, "fixturenames", ()) or (
            callspec is not None and callspec.params.get("database_url") == "postgres"
        )
        if on_postgres:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(autouse=True)
def seal_files(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own seal key file and witness directory (outside the checkout), by the
    environment, so ledgers built from settings, the CLI and served subprocesses all use them."""
    home = tmp_path_factory.mktemp("seals")
    monkeypatch.setenv("LEDGER_SEAL_KEY_FILE", str(home / "seal-ed25519.pem"))
    monkeypatch.setenv("LEDGER_WITNESS_DIR", str(home / "witness"))
    monkeypatch.setenv("LEDGER_GATE_CODE_KEY_FILE", str(home / "gate-code-hmac.key"))
    return home


def _migrated_for(request: pytest.FixtureRequest) -> bool:
    """A test that uses `settings` migrates its database first: it may start from a migrated
    copy (the same schema, far sooner). Every other test gets an empty database."""
    return "settings" in request.fixturenames


@pytest.fixture
def sqlite_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    path = tmp_path / "ledger.db"
    if _migrated_for(request):
        sqlite_template.copy_to(path)
    return f"sqlite:///{path}"


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    try:
        with pg.fresh_database(migrated=_migrated_for(request)) as url:
            yield url
    except pg.PostgresUnavailable as reason:
        if pg.in_ci():
            raise
        pytest.skip(f"PostgreSQL SKIPPED: {reason}")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(params=["plain", "encrypted"])
def cipher_key(request: pytest.FixtureRequest) -> str | None:
    return TEST_CIPHER_KEY if request.param == "encrypted" else None


@pytest.fixture
def settings(database_url: str) -> Settings:
    settings = Settings(database_url=database_url)
    migrate(settings)
    return settings


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Ledger]:
    app = Ledger(settings)
    yield app
    app.close()


@pytest.fixture
def now() -> Iterator[clock.FixedClock]:
    """The ledger's clock, fixed at 2025-06-20 10:00 JST; tests move it with .advance() or .at."""
    with clock.clock_at(datetime(2025, 6, 20, 10, 0, tzinfo=clock.JST)) as fixed:
        yield fixed
