"""The job engine end to end on SQLite: real SSH server and SNMP agent on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from support.snmpsim import SnmpSimAgent
from support.sshserver import SshTestServer

from opsconductor_desktop.domain.credentials import CredentialKind, Secret
from opsconductor_desktop.domain.jobs import RunStatus, Selection, parse_job
from opsconductor_desktop.domain.targets import (
    SnmpProfile,
    SnmpVersion,
    SshProfile,
    TargetSpec,
)
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.app import Core, open_core

from .conftest import SSH_PASSWORD, SSH_USER


@pytest.fixture
async def core(tmp_path: Path) -> Any:
    c = await open_core(
        home=tmp_path / "home",
        db_url=f"sqlite:///{tmp_path}/jobs.db",
        secrets=SecretStore(),
        actor="tester",
    )
    try:
        yield c
    finally:
        await c.close()


async def add_ssh_targets(core: Core, server: SshTestServer, names: list[str]) -> None:
    await core.credentials.create(
        "lab", CredentialKind.SSH_PASSWORD, Secret({"password": SSH_PASSWORD}), username=SSH_USER
    )
    for name in names:
        await core.inventory.create_target(
            TargetSpec(
                name,
                "127.0.0.1",
                ssh=SshProfile(server.port, SSH_USER, "lab"),
                vars={"greeting": f"hello-{name}"},
            )
        )


async def test_ssh_job_with_templates_expectations_and_captures(
    core: Core, ssh_server: SshTestServer
) -> None:
    await add_ssh_targets(core, ssh_server, ["r1", "r2"])
    job = parse_job(
        {
            "name": "greet",
            "steps": [
                {
                    "type": "ssh.command",
                    "command": "echo {{ vars.greeting }} on {{ target.name }}",
                    "expect": {"regex": "hello-"},
                    "capture": r"hello-(?P<who>\w+)",
                },
                {"type": "ssh.command", "command": "conn-id"},
                {"type": "ssh.command", "command": "conn-id"},
            ],
        }
    )
    handle = await core.jobs.start(job, selection=Selection(targets=("r1", "r2")))
    assert await handle.wait() is RunStatus.SUCCEEDED
    results = {t.name: t for t in await core.jobs.run_targets(handle.run_id)}
    first = results["r1"].steps[0]
    assert first.stdout == b"hello-r1 on r1\n"
    assert first.data["captured"] == {"who": "r1"}
    # one connection per target reused across the steps of the run
    assert results["r1"].steps[1].stdout == results["r1"].steps[2].stdout
    run = await core.jobs.run(handle.run_id)
    assert (run.total, run.succeeded, run.failed) == (2, 2, 0)


async def test_failures_are_per_target_and_policy_applies(
    core: Core, ssh_server: SshTestServer, snmp_agent_jobs: SnmpSimAgent
) -> None:
    await add_ssh_targets(core, ssh_server, ["good"])
    # a target with a wrong password, one nobody listens for, one without SSH profile
    await core.credentials.create(
        "wrong",
        CredentialKind.SSH_PASSWORD,
        Secret({"password": "not-the-password"}),
        username=SSH_USER,
    )
    await core.inventory.create_target(
        TargetSpec("badpw", "127.0.0.1", ssh=SshProfile(ssh_server.port, SSH_USER, "wrong"))
    )
    await core.inventory.create_target(
        TargetSpec("closed", "127.0.0.1", ssh=SshProfile(1, SSH_USER, "lab"))
    )
    await core.inventory.create_target(TargetSpec("bare", "127.0.0.1"))
    job = parse_job(
        {
            "name": "j",
            "failure_policy": "stop",
            "steps": [
                {"type": "ssh.command", "command": "exit 3"},
                {"type": "ssh.command", "command": "echo never"},
            ],
        }
    )
    handle = await core.jobs.start(
        job, selection=Selection(targets=("good", "badpw", "closed", "bare"))
    )
    assert await handle.wait() is RunStatus.FAILED
    results = {t.name: t for t in await core.jobs.run_targets(handle.run_id)}
    assert all(t.status is RunStatus.FAILED for t in results.values())
    assert results["good"].steps[0].exit_status == 3 and len(results["good"].steps) == 1
    assert "exit status 3" in (results["good"].error or "")
    assert "refused the password" in (results["badpw"].error or "")
    assert "not-the-password" not in (results["badpw"].error or "")
    assert results["closed"].error
    assert "no SSH profile" in (results["bare"].error or "")


async def test_timeout_cancel_output_cap_binary(core: Core, ssh_server: SshTestServer) -> None:
    await add_ssh_targets(core, ssh_server, ["t1", "t2"])
    job = parse_job(
        {
            "name": "slow",
            "failure_policy": "continue",
            "steps": [
                {"type": "ssh.command", "command": "sleep 30", "timeout": 0.5},
                {"type": "ssh.command", "command": "big 5000000", "max_output": 1048576},
                {"type": "ssh.command", "command": "binary"},
            ],
        }
    )
    handle = await core.jobs.start(job, selection=Selection(targets=("t1",)))
    await handle.wait()
    (t1,) = await core.jobs.run_targets(handle.run_id)
    slow, big, binary = t1.steps
    assert slow.status is RunStatus.FAILED and "timed out" in (slow.error or "")
    assert ("closed-early", "sleep 30") in ssh_server.events  # the channel was really closed
    assert big.stdout_truncated and len(big.stdout) == 1 << 20
    assert binary.stdout == bytes(range(256)) * 4

    never = parse_job(
        {"name": "never", "steps": [{"type": "ssh.command", "command": "sleep 60", "timeout": 120}]}
    )
    handle = await core.jobs.start(never, selection=Selection(targets=("t1", "t2")))
    for _ in range(100):
        await asyncio.sleep(0.05)
        if sum(1 for e in ssh_server.events if e == ("command", "sleep 60")) == 2:
            break
    assert core.jobs.cancel(handle.run_id, "t1")
    await asyncio.sleep(0.3)
    assert core.jobs.cancel(handle.run_id)
    assert await handle.wait() is RunStatus.CANCELLED
    statuses = {t.name: t.status for t in await core.jobs.run_targets(handle.run_id)}
    assert statuses == {"t1": RunStatus.CANCELLED, "t2": RunStatus.CANCELLED}
    for _ in range(50):
        if sum(1 for e in ssh_server.events if e == ("closed-early", "sleep 60")) == 2:
            break
        await asyncio.sleep(0.05)
    assert sum(1 for e in ssh_server.events if e == ("closed-early", "sleep 60")) == 2


async def test_snmp_and_reachability_steps(core: Core, snmp_agent_jobs: SnmpSimAgent) -> None:
    await core.credentials.create(
        "public", CredentialKind.SNMP_COMMUNITY, Secret({"community": "public"})
    )
    await core.inventory.create_target(
        TargetSpec(
            "agent",
            snmp_agent_jobs.host,
            snmp=SnmpProfile(SnmpVersion.V2C, snmp_agent_jobs.port, "public"),
        )
    )
    job = parse_job(
        {
            "name": "snmp",
            "failure_policy": "continue",
            "steps": [
                {"type": "snmp.get", "oids": ["1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.3.0"]},
                {"type": "snmp.walk", "oid": "1.3.6.1.2.1.2.2.1.2"},
                {"type": "snmp.get", "oids": ["1.3.6.1.2.1.1.99.0"], "timeout": 3},
                {"type": "ping"},
                {"type": "tcp.check", "port": 1, "timeout": 1},
            ],
        }
    )
    handle = await core.jobs.start(job, selection=Selection(targets=("agent",)))
    await handle.wait()
    (agent,) = await core.jobs.run_targets(handle.run_id)
    get, walk, missing, ping, tcp = agent.steps
    assert get.status is RunStatus.SUCCEEDED and len(get.data["varbinds"]) == 2
    assert walk.status is RunStatus.SUCCEEDED
    assert all(vb["oid"].startswith("1.3.6.1.2.1.2.2.1.2.") for vb in walk.data["varbinds"])
    assert missing.status is RunStatus.FAILED and "noSuch" in (missing.error or "")
    assert ping.status is RunStatus.SUCCEEDED
    assert tcp.status is RunStatus.FAILED


async def test_rerun_failed_and_interrupted_recovery(
    core: Core, ssh_server: SshTestServer, tmp_path: Path
) -> None:
    await add_ssh_targets(core, ssh_server, ["a", "b"])
    job = parse_job(
        {
            "name": "flaky",
            "steps": [
                {
                    "type": "ssh.command",
                    "command": "echo {{ vars.greeting }}",
                    "expect": {"regex": "hello-a"},
                }
            ],
        }
    )
    info, outcome = await core.jobs.save(job)
    assert outcome == "created"
    assert (await core.jobs.save(job))[1] == "unchanged"
    first = await core.jobs.start_named("flaky", selection=Selection(targets=("a", "b")))
    assert await first.wait() is RunStatus.FAILED
    again = await core.jobs.rerun_failed(first.run_id)
    assert again.targets == ("b",)
    await again.wait()
    assert (await core.jobs.run(again.run_id)).rerun_of == first.run_id
    # a run left "running" by a dead process becomes interrupted at the next start
    from sqlalchemy import update

    from opsconductor_desktop.store.models import JobRunRow

    async with core.ctx.db.session() as s:
        await s.execute(
            update(JobRunRow)
            .where(JobRunRow.id == again.run_id)
            .values(status="running", owner="some-other-host:1")
        )
    assert await core.jobs.recover() == 0  # another host's run is left alone
    async with core.ctx.db.session() as s:
        await s.execute(update(JobRunRow).where(JobRunRow.id == again.run_id).values(owner=None))
    assert await core.jobs.recover() == 1
    assert (await core.jobs.run(again.run_id)).status is RunStatus.INTERRUPTED
