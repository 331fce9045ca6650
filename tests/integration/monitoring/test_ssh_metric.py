"""An SSH command metric against the real asyncssh server in the test process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from support.sshserver import SshTestServer

from opsconductor_desktop.domain.credentials import CredentialKind, Secret
from opsconductor_desktop.domain.targets import SshProfile, TargetSpec
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.services.app import Core

USER, PASSWORD = "monitor", "ssh-metric-password-1"


@pytest.fixture
async def ssh_server() -> AsyncIterator[SshTestServer]:
    server = await SshTestServer.start(passwords={USER: PASSWORD})
    try:
        yield server
    finally:
        await server.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_ssh_metric_parses_a_number_and_names_what_is_missing(
    core: Core, ssh_server: SshTestServer
) -> None:
    await core.credentials.create(
        "lab", CredentialKind.SSH_PASSWORD, Secret({"password": PASSWORD}), username=USER
    )
    await core.inventory.create_target(
        TargetSpec("linux1", "127.0.0.1", ssh=SshProfile(ssh_server.port, USER, "lab"))
    )
    await core.monitoring.save_monitor(
        {
            "name": "load",
            "kind": "ssh",
            "timeout": 5,
            "select": {"targets": ["linux1"]},
            "metrics": [
                {"name": "load1", "command": "echo 0.42 0.30 0.25", "regex": r"^(\S+)"},
                {"name": "users", "command": "echo users: 1,234", "regex": r"users: ([\d,]+)"},
                {"name": "nothing", "command": "echo no digits", "regex": r"(\d+)"},
            ],
        }
    )
    report = await core.polling.round(every=True)
    assert (report.checks, report.ok, report.samples) == (1, 1, 2)
    since = utcnow() - timedelta(minutes=5)
    assert (await core.monitoring.points("linux1", "load1", start=since)).values == (0.42,)
    assert (await core.monitoring.points("linux1", "users", start=since)).values == (1234.0,)
    (state,) = await core.monitoring.check_states(target="linux1")
    assert state.ok and "nothing: no number" in state.error
