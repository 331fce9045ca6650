"""Real peers for the job engine: the in-process asyncssh server and snmpsim."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from support.snmpsim import DATA_DIR, SnmpSimAgent, start_snmpsim
from support.sshserver import SshTestServer

SSH_USER = "operator"
SSH_PASSWORD = "job-engine-password-1"


@pytest.fixture(scope="session")
def snmp_agent_jobs() -> Iterator[SnmpSimAgent]:
    agent = start_snmpsim([DATA_DIR / "public.snmprec"])
    try:
        yield agent
    finally:
        agent.stop()


@pytest.fixture
async def ssh_server() -> AsyncIterator[SshTestServer]:
    server = await SshTestServer.start(passwords={SSH_USER: SSH_PASSWORD})
    try:
        yield server
    finally:
        await server.stop()
