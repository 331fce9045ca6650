"""Job definitions: validation with clear paths, templates, expectations, captures."""

from __future__ import annotations

from typing import Any

import pytest

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.jobs import (
    FailurePolicy,
    StepType,
    check_template,
    first_number,
    parse_job,
    render,
)

GOOD: dict[str, Any] = {
    "name": "show-version",
    "description": "versions",
    "select": {"groups": ["core"], "rule": "vendor:cisco"},
    "concurrency": 10,
    "failure_policy": "continue",
    "steps": [
        {
            "type": "ssh.command",
            "command": "show version | i {{ target.model }}",
            "expect": {"regex": "Version"},
            "capture": r"Version (?P<version>\S+)",
        },
        {"type": "snmp.get", "oids": ["1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.3.0"]},
        {"type": "snmp.walk", "oid": "1.3.6.1.2.1.2.2.1.2", "max_repetitions": 10},
        {
            "type": "snmp.set",
            "oid": "1.3.6.1.2.1.1.6.0",
            "value_type": "s",
            "value": "{{ vars.rack }}",
        },
        {"type": "ping", "count": 2, "expect": {"compare": {"op": "<", "value": 50}}},
        {"type": "tcp.check", "port": 22},
    ],
}


def test_good_definition() -> None:
    job = parse_job(GOOD)
    assert [s.type for s in job.steps] == list(StepType)
    assert job.failure_policy is FailurePolicy.CONTINUE and job.concurrency == 10
    assert job.steps[1].params["oids"][1] == "1.3.6.1.2.1.1.3.0"
    assert job.steps[0].expect.exit_status == 0 and job.steps[1].expect.exit_status is None
    assert job.select.rule == "vendor:cisco"
    assert job.steps[0].captured("Cisco IOS Version 17.3.4a, RELEASE") == {"version": "17.3.4a,"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"steps": []}, "steps: a job needs at least one step"),
        ({"colour": 1}, "unknown key"),
        ({"failure_policy": "maybe"}, "one of stop, continue"),
        ({"steps": [{"type": "telnet"}]}, "steps\\[0\\].type: unknown step type"),
        ({"steps": [{"type": "snmp.get", "oids": ["sysDescr.0"]}]}, "invalid OID 'sysDescr.0'"),
        (
            {"steps": [{"type": "ssh.command", "command": "x {{ target.colour }}"}]},
            "target has no field 'colour'",
        ),
        ({"steps": [{"type": "ssh.command", "command": "x {{ os.system }}"}]}, "cannot use"),
        ({"steps": [{"type": "ssh.command", "command": "x {{ vars.a }"}]}, "unbalanced"),
        (
            {"steps": [{"type": "ssh.command", "command": "x", "expect": {"regex": "("}}]},
            "invalid regex",
        ),
        (
            {"steps": [{"type": "ssh.command", "command": "x", "capture": "v\\d"}]},
            "needs named groups",
        ),
        ({"steps": [{"type": "ping", "timeout": -1}]}, "timeout: must be between"),
        ({"steps": [{"type": "tcp.check", "port": 70000}]}, "port"),
        ({"steps": [{"type": "ping", "oids": []}]}, "unknown key\\(s\\) for ping: oids"),
        ({"select": {"rule": "colour:red"}}, "unknown rule field"),
        ({"concurrency": 0}, "concurrency: must be between"),
    ],
)
def test_bad_definitions_name_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_job({**GOOD, **change})


def test_render_templates() -> None:
    target = {"name": "r1", "address": "10.0.0.1", "model": "ASR"}
    assert render("ping {{target.address}} {{ vars.vrf }}", target, {"vrf": "mgmt"}) == (
        "ping 10.0.0.1 mgmt"
    )
    with pytest.raises(ValidationError, match="needs vars.vrf"):
        render("{{ vars.vrf }}", target, {})
    assert check_template("no templates here", what="x") == "no templates here"


def test_expectations() -> None:
    job = parse_job(
        {
            "name": "j",
            "steps": [
                {
                    "type": "ssh.command",
                    "command": "uptime",
                    "expect": {
                        "not_regex": "error",
                        "compare": {"op": ">=", "value": 2},
                        "exit_status": None,
                    },
                }
            ],
        }
    )
    expect = job.steps[0].expect
    assert expect.exit_status is None
    assert expect.check_text("all fine") is None
    assert "matches /error/" in (expect.check_text("an error here") or "")
    assert expect.check_value(3) is None
    assert "is not >= 2" in (expect.check_value(1) or "")
    assert "no numeric value" in (expect.check_value(None) or "")
    assert first_number("load average: 0.42, 0.3") == 0.42
    assert first_number("none") is None
