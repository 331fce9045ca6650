"""``opsconductor connectors`` end to end (in-process), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from opsconductor_desktop.cli import main
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.app import open_core

from .fakes import Fake, am_alert


def run(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", db_url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _stored_text(db_url: str) -> str:
    """Everything the connectors and audit tables hold, as text."""

    async def read() -> str:
        core = await open_core(db_url=db_url, secrets=SecretStore(), actor="check")
        try:
            async with core.ctx.db.session() as s:
                rows = (await s.execute(sa.text("SELECT * FROM connectors"))).all()
                audit = (await s.execute(sa.text("SELECT * FROM audit_log"))).all()
            return repr(rows) + repr(audit)
        finally:
            await core.close()

    return asyncio.run(read())


def test_connectors_commands(
    capsys: Any, db_url: str, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.am_alerts = [
        am_alert("InstanceDown", "node1:9100", "critical", fp="d1"),
        am_alert("DiskFull", "node2:9100", "warning", fp="d2"),
    ]
    code, out, _ = run(capsys, db_url, "connectors", "manifests")
    assert code == 0
    for ident in ("alertmanager", "prtg", "zabbix", "generic-json", "webhook", "snmp-trap"):
        assert ident in out

    # the token comes from stdin (KEY=-), never from argv
    monkeypatch.setattr("sys.stdin", io.StringIO(fake.token + "\n"))
    code, out, err = run(
        capsys, db_url, "connectors", "add", "alertmanager", "--name", "am",
        "--set", f"url={fake.base}", "--set", "token=-", "--set", "interval=30",
    )  # fmt: skip
    assert code == 0, err
    assert "connector am added (alertmanager 1.0, enabled)" in out

    code, out, _ = run(capsys, db_url, "connectors", "test", "am", "--format", "json")
    assert code == 0
    tested = json.loads(out)
    assert tested["ok"] and not tested["stored"]
    assert {a["key"] for a in tested["alerts"]} == {"InstanceDown/d1", "DiskFull/d2"}
    code, out, _ = run(capsys, db_url, "alerts", "list", "--format", "json")
    assert json.loads(out) == []  # a test stores nothing

    code, out, _ = run(capsys, db_url, "connectors", "poll", "am")
    assert code == 0 and "stored: 2 opened" in out and "InstanceDown on node1:9100" in out
    code, out, _ = run(capsys, db_url, "alerts", "list", "--source", "connector:am")
    assert "InstanceDown on node1:9100" in out and "DiskFull on node2:9100" in out

    fake.am_alerts = fake.am_alerts[:1]
    code, out, _ = run(capsys, db_url, "connectors", "poll", "am", "--format", "json")
    polled = json.loads(out)
    assert code == 0 and polled["resolved"] == 1 and polled["state"] == "ok"
    assert [a["key"] for a in polled["absent"]] == ["DiskFull/d2"]

    code, out, _ = run(capsys, db_url, "connectors", "list", "--format", "json")
    (listed,) = json.loads(out)
    assert listed["state"] == "ok" and listed["open_alerts"] == 1
    assert listed["interval"] == 30 and listed["secrets_set"] == ["token"]
    assert "token" not in listed["settings"]
    code, out, _ = run(capsys, db_url, "connectors", "list")
    assert code == 0 and "am" in out and "http_poll" in out and "ok" in out

    code, out, _ = run(capsys, db_url, "connectors", "show", "am")
    assert code == 0 and "(set)" in out and fake.token not in out

    # a wrong setting, an unknown connector, a bad value: one line, exit 1
    code, _, err = run(capsys, db_url, "connectors", "set", "am", "colour=blue")
    assert code == 1 and "has no setting 'colour'" in err
    code, _, err = run(capsys, db_url, "connectors", "set", "am", "interval=2")
    assert code == 1 and "out of range" in err
    code, _, err = run(capsys, db_url, "connectors", "poll", "nope")
    assert code == 1 and "no connector named 'nope'" in err

    # the source fails: exit 1 with the reason; the state shows it
    code, _, _ = run(capsys, db_url, "connectors", "set", "am", "token=wrong-token")
    assert code == 0
    code, out, _ = run(capsys, db_url, "connectors", "poll", "am")
    assert code == 1 and "HTTP 401" in out
    code, out, _ = run(capsys, db_url, "connectors", "list", "--format", "json")
    assert json.loads(out)[0]["state"] == "degraded"

    code, out, _ = run(capsys, db_url, "connectors", "disable", "am")
    assert code == 0 and "disabled" in out
    code, _, err = run(capsys, db_url, "connectors", "poll", "am")
    assert code == 1 and "disabled" in err

    stored = _stored_text(db_url)
    assert fake.token not in stored and "wrong-token" not in stored

    code, out, _ = run(capsys, db_url, "connectors", "rm", "am")
    assert code == 0 and "1 open alert(s) resolved" in out
    code, out, _ = run(capsys, db_url, "connectors", "list", "--format", "json")
    assert json.loads(out) == []


def test_connectors_add_a_manifest_file(capsys: Any, db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: X\nversion: 1\nkind: http_poll\ncolour: red\n")
    code, _, err = run(capsys, db_url, "connectors", "add", str(bad))
    assert code == 1 and f"{bad}:5: colour: unknown field(s) colour" in err

    good = tmp_path / "hook.yaml"
    text = (Path(__file__).parents[3] / "resources/connectors/webhook.yaml").read_text()
    good.write_text(text.replace("id: webhook", "id: my-hook"))
    code, out, err = run(capsys, db_url, "connectors", "add", str(good), "--set", "port=19095")
    assert code == 0, err
    assert "connector my-hook added (my-hook 1.0, disabled)" in out
    assert "before enabling it, set: token" in out
    code, _, err = run(capsys, db_url, "connectors", "enable", "my-hook")
    assert code == 1 and "needs token" in err
    code, _, err = run(capsys, db_url, "connectors", "test", "my-hook")
    assert code == 1 and "it is not polled" in err
