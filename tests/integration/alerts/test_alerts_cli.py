"""``opsconductor alerts`` and ``opsconductor silences`` end to end (in-process)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from opsconductor_desktop.cli import main
from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.app import open_core


def run(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", db_url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


async def _seed(db_url: str) -> None:
    core = await open_core(db_url=db_url, secrets=SecretStore(), actor="seed")
    try:
        await core.alerts.submit(
            [
                NormalizedAlert("rule", "cpu", Severity.CRITICAL, "CPU 99%", target="r1"),
                NormalizedAlert("trap", "linkDown:2", Severity.MINOR, "link down", target="r2"),
            ]
        )
    finally:
        await core.close()


def test_alerts_commands(capsys: Any, db_url: str) -> None:
    asyncio.run(_seed(db_url))
    code, out, _ = run(capsys, db_url, "alerts", "list", "--format", "json")
    assert code == 0
    alerts = {a["key"]: a for a in json.loads(out)}
    assert set(alerts) == {"cpu", "linkDown:2"}
    cpu = alerts["cpu"]["id"]

    code, out, _ = run(capsys, db_url, "alerts", "list", "--severity", "major")
    assert code == 0 and "CPU 99%" in out and "link down" not in out

    code, out, _ = run(
        capsys, db_url, "alerts", "ack", cpu[:8], "--comment", "mine", "--expires", "2h"
    )
    assert code == 0 and "acknowledged 1" in out
    code, out, _ = run(capsys, db_url, "alerts", "show", cpu[:8])
    assert code == 0 and "acknowledged" in out and "mine" in out
    code, out, _ = run(capsys, db_url, "alerts", "unack", cpu)
    assert code == 0
    code, out, _ = run(capsys, db_url, "alerts", "resolve", cpu[:8], "--comment", "done")
    assert code == 0
    code, out, _ = run(capsys, db_url, "alerts", "list", "--status", "open", "--format", "json")
    assert [a["key"] for a in json.loads(out)] == ["linkDown:2"]
    code, out, _ = run(capsys, db_url, "alerts", "show", cpu, "--format", "json")
    assert json.loads(out)["status"] == "resolved"
    assert [e["to"] for e in json.loads(out)["events"]] == [
        "active",
        "acknowledged",
        "active",
        "resolved",
    ]
    code, _, err = run(capsys, db_url, "alerts", "ack", cpu[:8])
    assert code == 1 and "resolved" in err
    code, _, err = run(capsys, db_url, "alerts", "show", "zzzz")
    assert code == 1 and "bad id" in err


def test_silences_commands(capsys: Any, db_url: str) -> None:
    asyncio.run(_seed(db_url))
    code, out, err = run(
        capsys, db_url, "silences", "add", "--source", "trap", "--duration", "2h",
        "--comment", "trap storm",
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = run(capsys, db_url, "alerts", "list", "--format", "json")
    status = {a["key"]: a["status"] for a in json.loads(out)}
    assert status == {"cpu": "active", "linkDown:2": "suppressed"}
    code, out, _ = run(capsys, db_url, "silences", "list", "--format", "json")
    (silence,) = json.loads(out)
    assert silence["matchers"] == {"source": "trap"} and silence["active"]
    code, out, _ = run(capsys, db_url, "silences", "list")
    assert "trap storm" in out
    code, out, _ = run(capsys, db_url, "silences", "rm", silence["id"][:8])
    assert code == 0
    code, out, _ = run(capsys, db_url, "alerts", "list", "--format", "json")
    assert {a["status"] for a in json.loads(out)} == {"active"}

    code, _, err = run(
        capsys, db_url, "silences", "add", "--key-regex", "(", "--duration", "1h",
        "--comment", "x",
    )  # fmt: skip
    assert code == 1 and "bad key_regex" in err
    code, _, err = run(
        capsys, db_url, "silences", "add", "--target", "r1", "--start", "2030-01-02T00:00:00+00:00",
        "--end", "2030-01-01T00:00:00+00:00", "--comment", "x",
    )  # fmt: skip
    assert code == 1 and "end after it starts" in err
    code, out, err = run(
        capsys, db_url, "silences", "add", "--group", "core", "--duration", "30d",
        "--weekly", "tue 22:00 3h", "--comment", "maintenance",
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = run(capsys, db_url, "silences", "list")
    assert "tue 22:00 UTC" in out
