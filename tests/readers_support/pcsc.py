"""A private PC/SC stack for tests: our own ``pcscd`` with Debian's vpcd virtual reader.

pcscd has one fixed socket (/run/pcscd/pcscd.comm), so only one can run on a machine. The tests
start their own in the foreground with a reader.conf.d holding only vpcd (on free ports, not the
default 35963), stop it afterwards, and serialise with other test runs on this machine through a
lock file. A pcscd they did not start is never stopped: they refuse to run next to it instead.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PIDFILE = Path("/run/pcscd/pcscd.pid")
LOCKFILE = Path("/tmp/ccus-ledger-reader-tests-pcscd.lock")
READER = "Virtual PCD 00 00"  # vpcd's first slot; the second ("… 00 01") listens on port + 1


class PcscUnavailable(RuntimeError):
    """This machine cannot run the PC/SC tests (packages missing, another pcscd running)."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class VirtualReader:
    name: str
    port: int  # where a virtual card connects to be "presented"
    log: Path

    def slot(self, number: int) -> tuple[str, int]:
        """vpcd's slots: the reader name and card port of slot 0 or 1."""
        return f"{self.name[:-2]}{number:02d}", self.port + number


@contextmanager
def private_pcscd(workdir: Path, timeout: float = 30.0) -> Iterator[VirtualReader]:
    pcscd = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
    if pcscd is None or not VPCD_DRIVER.exists():
        raise PcscUnavailable("pcscd or vsmartcard-vpcd is not installed (`make setup` as root)")
    with _machine_lock():
        _refuse_foreign_pcscd()
        port = _free_port_pair()
        confdir = workdir / "reader.conf.d"
        confdir.mkdir(parents=True, exist_ok=True)
        (confdir / "vpcd").write_text(
            f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x{port:04X}\n'
            f"LIBPATH {VPCD_DRIVER}\nCHANNELID 0x{port:04X}\n"
        )
        log = workdir / "pcscd.log"
        with log.open("w") as out:
            process = subprocess.Popen([pcscd, "--foreground", "--apdu", "--debug",
                                        "--config", str(confdir)],
                                       stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        try:
            _wait_for_reader(process, log, timeout)
            yield VirtualReader(READER, port, log)
        finally:
            _stop(process)


@contextmanager
def virtual_reader_or_skip(workdir: Path) -> Iterator[VirtualReader]:
    """The private stack for a test module; skipped where it cannot run, except in CI."""
    import pytest

    stack = ExitStack()
    try:
        reader = stack.enter_context(private_pcscd(workdir))
    except PcscUnavailable as reason:
        if in_ci():
            raise
        pytest.skip(f"PC/SC SKIPPED: {reason}")
    with stack:
        yield reader


@contextmanager
def _machine_lock(timeout: float = 600.0) -> Iterator[None]:
    with LOCKFILE.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PcscUnavailable(f"another test run holds {LOCKFILE}") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _refuse_foreign_pcscd() -> None:
    try:
        pid = int(PIDFILE.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return  # none running (a stale pid file is pcscd's own business)
    raise PcscUnavailable(
        f"a pcscd this test did not start is running (pid {pid}); it is left alone — stop it "
        f"(e.g. `systemctl stop pcscd.socket pcscd` or `kill {pid}`) to run the reader tests"
    )


def _free_port_pair() -> int:
    """Two consecutive free TCP ports (vpcd opens one per slot, on every interface)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("0.0.0.0", 0))
            port = probe.getsockname()[1]
        if port < 65535 and all(_bindable(p) for p in (port, port + 1)):
            return int(port)
    raise PcscUnavailable("no two consecutive free ports for vpcd")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


def _wait_for_reader(process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    from smartcard.System import readers

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pcscd exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if READER in [str(reader) for reader in readers()]:
                return
        except Exception:  # not listening yet
            pass
        time.sleep(0.1)
    raise RuntimeError(f"pcscd did not list {READER!r} in {timeout} s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)
