"""``opsconductor jobs|run|exec|snmp`` against the real SSH server and SNMP agent."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from support.snmpsim import SnmpSimAgent
from support.sshserver import SshTestServer

from opsconductor_desktop.cli import main

from .conftest import SSH_PASSWORD, SSH_USER

JOB = """
name: greet
description: say hello
select: {groups: [lab]}
steps:
  - type: ssh.command
    command: "echo hi {{ target.name }}"
    expect: {regex: "hi "}
"""


async def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, *argv: str, stdin: str | None = None
) -> tuple[int, str, str]:
    """Run the CLI in a worker thread: the SSH test server lives on this test's loop."""
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_jobs_import_run_exec_snmp(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    ssh_server: SshTestServer,
    snmp_agent_jobs: SnmpSimAgent,
) -> None:
    db = ["--db", f"sqlite:///{tmp_path}/cli.db"]
    assert (
        await cli(
            monkeypatch,
            capsys,
            *db,
            "creds",
            "add",
            "lab",
            "--kind",
            "ssh-password",
            "--username",
            SSH_USER,
            stdin=SSH_PASSWORD + "\n",
        )
    )[0] == 0
    assert (
        await cli(
            monkeypatch,
            capsys,
            *db,
            "creds",
            "add",
            "pub",
            "--kind",
            "snmp-community",
            stdin="public\n",
        )
    )[0] == 0
    for name in ("r1", "r2"):
        assert (
            await cli(
                monkeypatch,
                capsys,
                *db,
                "targets",
                "add",
                name,
                "127.0.0.1",
                "--ssh-port",
                str(ssh_server.port),
                "--ssh-credential",
                "lab",
                "--snmp-version",
                "v2c",
                "--snmp-port",
                str(snmp_agent_jobs.port),
                "--snmp-credential",
                "pub",
            )
        )[0] == 0
    assert (await cli(monkeypatch, capsys, *db, "groups", "add", "lab", "--members", "r1,r2"))[
        0
    ] == 0
    job_file = tmp_path / "greet.yml"
    job_file.write_text(JOB)
    code, out, err = await cli(monkeypatch, capsys, *db, "jobs", "import", str(job_file))
    assert code == 0 and "created job greet" in out, err
    code, out, _ = await cli(monkeypatch, capsys, *db, "jobs", "list", "--format", "json")
    assert json.loads(out)[0]["name"] == "greet"

    code, out, err = await cli(monkeypatch, capsys, *db, "run", "greet", "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "succeeded"
    assert {t["name"]: t["steps"][0]["stdout"] for t in result["targets"]} == {
        "r1": "hi r1\n",
        "r2": "hi r2\n",
    }

    code, out, _ = await cli(monkeypatch, capsys, *db, "exec", "--ssh", "exit 2", "--targets", "r1")
    assert code == 1 and "exit status 2" in out
    code, out, _ = await cli(
        monkeypatch,
        capsys,
        *db,
        "exec",
        "--snmp-get",
        "1.3.6.1.2.1.1.5.0",
        "--groups",
        "lab",
        "--format",
        "json",
    )
    assert code == 0 and json.loads(out)["status"] == "succeeded"
    code, out, err = await cli(monkeypatch, capsys, *db, "exec", "--ping", "--targets", "r1,ghost")
    assert code == 1 and "unknown target(s): ghost" in err

    code, out, _ = await cli(monkeypatch, capsys, *db, "snmp", "walk", "r1", "1.3.6.1.2.1.2.2.1.2")
    assert code == 0 and out.count("1.3.6.1.2.1.2.2.1.2.") >= 2
    code, out, err = await cli(monkeypatch, capsys, *db, "snmp", "get", "r1", "sysName.0")
    assert code == 1 and "invalid OID" in err

    code, out, _ = await cli(monkeypatch, capsys, *db, "jobs", "runs", "--format", "json")
    runs = json.loads(out)
    assert len(runs) >= 4 and runs[-1]["job"] == "greet"
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\nsteps:\n  - {type: snmp.get, oids: [nope]}\n")
    code, _, err = await cli(monkeypatch, capsys, *db, "jobs", "import", str(bad))
    assert code == 1 and "bad.yml: steps[0].oids[0]: invalid OID 'nope'" in err
