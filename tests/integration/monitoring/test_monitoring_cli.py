"""``opsconductor monitors|rules|silences import``, ``poll --once`` and ``agent``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from opsconductor_desktop.cli import main

MONITORING_YAML = """\
monitors:
  - name: svc
    kind: reachability
    method: tcp
    port: {port}
    down_after: 1
    interval: 30
    timeout: 1
    retries: 0
    select: {{targets: [web1, web2]}}
rules:
  - name: slow-connect
    metric: tcp_connect_ms
    op: ">"
    threshold: 5000
    clear: 1000
    for: 2m
    severity: warning
silences:
  - matchers: {{target: web2}}
    duration: 2h
    weekly: "sat,sun 00:00 24h"
    comment: weekend work
"""


def run(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", db_url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def listening() -> Any:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(20)
        yield s.getsockname()[1]


def test_import_list_poll_and_remove(
    capsys: Any, db_url: str, tmp_path: Path, listening: int
) -> None:
    for name, address in (("web1", "127.0.0.1"), ("web2", "127.0.0.1")):
        assert run(capsys, db_url, "targets", "add", name, address)[0] == 0
    file = tmp_path / "monitoring.yaml"
    file.write_text(MONITORING_YAML.format(port=listening))

    code, out, _ = run(capsys, db_url, "monitors", "import", str(file))
    assert code == 0 and "monitor svc: created" in out
    code, out, _ = run(capsys, db_url, "monitors", "import", str(file))
    assert "monitor svc: unchanged" in out  # idempotent
    code, out, _ = run(capsys, db_url, "rules", "import", str(file))
    assert code == 0 and "rule slow-connect: created" in out
    code, out, _ = run(capsys, db_url, "silences", "import", str(file))
    assert code == 0 and "target=web2" in out

    code, out, _ = run(capsys, db_url, "monitors", "list", "--format", "json")
    (monitor,) = json.loads(out)
    assert monitor["name"] == "svc" and monitor["port"] == listening
    code, out, _ = run(capsys, db_url, "rules", "list")
    assert "tcp_connect_ms > 5000" in out and "warning" in out and " 2m " in out  # for: 2m

    code, out, _ = run(capsys, db_url, "poll", "--once", "--all", "--format", "json")
    report = json.loads(out)
    assert code == 0 and (report["checks"], report["ok"]) == (2, 2)
    assert {r["target"] for r in report["results"]} == {"web1", "web2"}
    assert all("tcp_connect_ms" in r["samples"] for r in report["results"])
    code, out, _ = run(capsys, db_url, "poll", "--once")  # nothing is due again yet
    assert code == 0 and "0 check(s)" in out

    code, out, _ = run(capsys, db_url, "monitors", "status", "--format", "json")
    assert [s["ok"] for s in json.loads(out)] == [True, True]
    assert run(capsys, db_url, "rules", "rm", "slow-connect")[0] == 0
    assert run(capsys, db_url, "monitors", "rm", "svc")[0] == 0
    code, out, _ = run(capsys, db_url, "monitors", "list", "--format", "json")
    assert json.loads(out) == []


def test_bad_files_name_the_line_and_field(capsys: Any, db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("monitors:\n  - name: a\n    kind: snmp\n    interval: -5\n")
    code, _, err = run(capsys, db_url, "monitors", "import", str(bad))
    assert code == 1 and "bad.yaml:2: monitors[0]" in err and "interval" in err
    bad.write_text("monitors:\n  - name: [unclosed\n")
    code, _, err = run(capsys, db_url, "monitors", "import", str(bad))
    assert code == 1 and "YAML error" in err and "bad.yaml:" in err
    bad.write_text("rules:\n  - {name: r, metric: x, op: '=~', threshold: 1, severity: major}\n")
    code, _, err = run(capsys, db_url, "rules", "import", str(bad))
    assert code == 1 and "rules[0]" in err and "op" in err
    code, _, err = run(capsys, db_url, "monitors", "import", str(tmp_path / "none.yaml"))
    assert code == 1 and "no such file" in err


def test_agent_runs_until_sigterm_and_drains_quickly(
    sqlite_url: str, tmp_path: Path, listening: int
) -> None:
    env = {**os.environ, "OPSCONDUCTOR_DB": sqlite_url}
    cli = [sys.executable, "-m", "opsconductor_desktop"]
    subprocess.run([*cli, "targets", "add", "web1", "127.0.0.1"], env=env, check=True)
    file = tmp_path / "m.yaml"
    text = MONITORING_YAML.format(port=listening).replace(", web2", "")
    file.write_text(text.replace("interval: 30", "interval: 5"))  # the first slot within 5 s
    subprocess.run([*cli, "monitors", "import", str(file)], env=env, check=True)
    agent = subprocess.Popen(
        [*cli, "agent", "--status-every", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert agent.stderr is not None
        assert "running on" in agent.stderr.readline()
        deadline = time.monotonic() + 60
        checked = False
        while time.monotonic() < deadline and not checked:
            time.sleep(0.5)
            out = subprocess.run(
                [*cli, "monitors", "status", "--format", "json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            checked = bool(json.loads(out))
        assert checked, "the agent ran no check within its interval"
        agent.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = agent.wait(timeout=15)
        assert time.monotonic() - started < 10
        assert code == 0
        assert "agent stopped" in agent.stderr.read()
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
