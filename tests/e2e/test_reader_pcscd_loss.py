"""When pcscd goes away under a running agent, the agent must not sit there deaf: pyscard's card
monitor never recovers, so the agent exits non-zero for its service manager to restart it."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from tests.readers_support.contract_server import ContractServer, running, sqlite_ledger
from tests.readers_support.pcsc import virtual_reader_or_skip
from tests.readers_support.processes import Agent, wait_for


def test_an_agent_whose_pcscd_stops_exits_with_an_error_instead_of_going_deaf(
    tmp_path: Path,
) -> None:
    server = ContractServer(sqlite_ledger(tmp_path), {"t": "GATE-9"})
    with running(server), ExitStack() as pcsc:
        reader = pcsc.enter_context(virtual_reader_or_skip(tmp_path / "pcscd"))
        arguments = ["run", "--reader-id", "GATE-9", "--reader-name", reader.name, "--spool",
                     str(tmp_path / "gate-9.db"), "--server", server.url, "--token", "t"]
        with Agent(arguments, tmp_path) as agent:
            wait_for(lambda: "watching" in agent.output(), "the agent to watch the reader")
            pcsc.close()  # pcscd stops
            assert agent.finish(timeout=60) == 1, agent.output()
            assert "the PC/SC card monitor stopped" in agent.output()
