"""Removing a rule or a monitor resolves the alerts it raised (nothing else would clear
them), on both dialects; other alerts are left alone."""

from __future__ import annotations

from typing import Any

from opsconductor_desktop.domain.alerts import AlertStatus, NormalizedAlert, Severity
from opsconductor_desktop.domain.targets import TargetSpec


def alert(source: str, key: str) -> NormalizedAlert:
    return NormalizedAlert(
        source=source, key=key, severity=Severity.MAJOR, summary=f"{key} on r1", target="r1"
    )


async def test_removal_resolves_what_it_raised(core: Any) -> None:
    await core.inventory.create_target(TargetSpec("r1", "127.0.0.1"))
    await core.monitoring.save_rule(
        {"name": "cpu_high", "metric": "cpu", "op": ">", "threshold": 90, "severity": "major"}
    )
    await core.monitoring.save_monitor(
        {"name": "ping", "kind": "reachability", "select": {"targets": ["r1"]}}
    )
    await core.alerts.submit(
        [
            alert("rule", "cpu_high:cpu"),
            alert("rule", "cpu_highest:cpu"),  # another rule whose name starts the same
            alert("rule", "cpuXhigh:cpu"),  # "_" is not a wildcard
            alert("reachability", "ping"),
            alert("trap", "linkDown:3"),
        ]
    )
    await core.monitoring.remove_rule("cpu_high")
    by_key = {a.key: a for a in await core.alerts.list(status="all")}
    assert by_key["cpu_high:cpu"].status is AlertStatus.RESOLVED
    events = (await core.alerts.get(by_key["cpu_high:cpu"].id)).events
    assert events[-1].comment == "rule cpu_high deleted"
    open_keys = {a.key for a in await core.alerts.list(status="open")}
    assert open_keys == {"cpu_highest:cpu", "cpuXhigh:cpu", "ping", "linkDown:3"}
    await core.monitoring.remove_monitor("ping")
    open_keys = {a.key for a in await core.alerts.list(status="open")}
    assert open_keys == {"cpu_highest:cpu", "cpuXhigh:cpu", "linkDown:3"}
