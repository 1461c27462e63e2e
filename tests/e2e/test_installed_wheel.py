"""Installable as a package: the wheel built from this checkout, installed in a fresh virtual
environment outside it, migrates, serves and runs the jobs, with every file it writes under the
working directory's ./var (the default data directory of an installed ledger), none in the
installed package and none in the checkout."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
CHECKOUT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


def run(*args: str | Path, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


# Modules the gate agent must not load: the server's stack. (pydantic is not among them: this
# typer requires it.)
SERVER_STACK = ("eventsourcing", "fastapi", "psycopg", "uvicorn", "starlette",
                "pydantic_settings", "yoyo", "apscheduler", "openpyxl", "prometheus_client",
                "orjson")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built as a release would be (`python -m build`)."""
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, CHECKOUT, cwd=dist,
        env=clean_env())
    return next(dist.glob("ccus_ledger-*.whl"))


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("LEDGER_", "PYTHON", "VIRTUAL_ENV", "PROMETHEUS_"))}


def fresh_venv(folder: Path, requirement: str) -> Path:
    run(sys.executable, "-m", "venv", folder, cwd=folder.parent, env=clean_env())
    run(folder / "bin" / "pip", "install", "-q", requirement, cwd=folder.parent, env=clean_env())
    return folder / "bin"


def test_the_gate_agent_installs_without_the_servers_stack(wheel: Path, tmp_path: Path) -> None:
    bin_dir = fresh_venv(tmp_path / "gate", f"{wheel}[reader]")
    installed = run(bin_dir / "pip", "list", "--format=freeze", cwd=tmp_path, env=clean_env())
    names = {line.split("==")[0].lower() for line in installed.splitlines()}
    assert "pyscard" in names
    assert not names & {"eventsourcing", "fastapi", "psycopg", "uvicorn", "yoyo-migrations",
                        "apscheduler", "openpyxl", "prometheus-client", "pydantic-settings",
                        "starlette", "orjson"}, names
    loaded = run(bin_dir / "python", "-c", "import sys, readers.cli, readers.wiring, "
                 "readers.agent, readers.http_transport, readers.uploader, readers.monitor; "
                 "print(' '.join(sorted(sys.modules)))", cwd=tmp_path, env=clean_env()).split()
    assert not set(loaded) & set(SERVER_STACK)
    assert "upload" in run(bin_dir / "ledger-reader", "--help", cwd=tmp_path, env=clean_env())


def test_a_wheel_installed_outside_the_checkout_migrates_serves_and_runs_the_jobs(
    wheel: Path, tmp_path: Path,
) -> None:
    env = clean_env()
    bin_dir = fresh_venv(tmp_path / "venv", f"{wheel}[server]")
    ledger = bin_dir / "ledger"
    site = Path(run(bin_dir / "python", "-c", "import ledger, pathlib; "
                    "print(pathlib.Path(ledger.__file__).parent.parent)", cwd=tmp_path,
                    env=env).strip())
    assert CHECKOUT not in site.parents  # the installed copy, not the source tree

    home = tmp_path / "operator"
    home.mkdir()
    out = run(ledger, "migrate", cwd=home, env=env)
    assert f"SQLite {home / 'var' / 'ledger.db'}: applied" in out
    assert "0001_event_store" in out
    assert (home / "var" / "ledger.db").is_file()

    # The jobs: a seal (yesterday, JST) and last month's settlement, its files beside the database.
    assert "seal" in run(ledger, "seal", cwd=home, env=env)
    assert "succeeded" in run(ledger, "settle", "kentaikyo", cwd=home, env=env)
    settled = list((home / "var" / "ledger.db.settlements" / "kentaikyo").glob("*/*.csv"))
    assert settled, list(home.rglob("*"))

    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen([ledger, "serve", "--port", "0"], cwd=home, env=env,
                                  stdout=output, stderr=subprocess.STDOUT)
    try:
        while not (found := LISTENING.search(log.read_text())):
            assert server.poll() is None, log.read_text()
            time.sleep(0.05)
        with httpx.Client(base_url=found.group(1), timeout=None) as client:
            assert client.get("/v1/health").status_code == 200
            assert client.get("/v1/ready").status_code == 200
            assert "ledger_log_position" in client.get("/metrics").text
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()

    assert not list(site.glob("var")) and not (site / "migrations").exists()
    assert (site / "ledger" / "migrations" / "sqlite" / "0001_event_store.sql").is_file()
