"""The agent as a real subprocess (``ledger-reader``), and patient waiting for what it does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def agent_command() -> list[str]:
    script = Path(sys.executable).with_name("ledger-reader")
    return [str(script)] if script.exists() else [sys.executable, "-m", "readers"]


class Agent:
    """One ``ledger-reader`` process, its output in files under ``workdir``."""

    def __init__(self, arguments: list[str], workdir: Path, name: str = "agent") -> None:
        self.stdout, self.stderr = workdir / f"{name}.out", workdir / f"{name}.err"
        env = os.environ | {"PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        with self.stdout.open("w") as out, self.stderr.open("w") as err:
            self.process = subprocess.Popen(agent_command() + arguments, cwd=workdir, env=env,
                                            stdout=out, stderr=err)

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def finish(self, timeout: float = 120.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the agent did not finish:\n{self.output()[-4000:]}") from None

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


