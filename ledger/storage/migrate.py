"""Schema migrations with yoyo-migrations: versioned SQL files, one folder per database."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from yoyo import get_backend, read_migrations

from ledger.settings import Settings


def yoyo_url(settings: Settings) -> str:
    if settings.is_postgres:
        parts = urlsplit(settings.database_url)
        return urlunsplit(parts._replace(scheme="postgresql+psycopg"))
    path = Path(settings.sqlite_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def migrations_path(settings: Settings) -> Path:
    return settings.migrations_dir / ("postgresql" if settings.is_postgres else "sqlite")


def migrate(settings: Settings) -> list[str]:
    """Apply every migration not applied yet; return their IDs. Safe to run again."""
    backend = get_backend(yoyo_url(settings))
    migrations = read_migrations(str(migrations_path(settings)))
    try:
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        return [m.id for m in pending]
    finally:
        backend.connection.close()
