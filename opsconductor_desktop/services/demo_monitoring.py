"""Monitors and threshold rules for the demo estate, beside those of ``demo_metrics``.

``demo_metrics`` stores the two monitors its series come from (``snmp-basics``,
``core-ping``). This module adds what an operator would define next, so that the
Monitoring pane shows every kind of definition: a TCP reachability check of the servers'
SSH port, UPS battery readings over SNMP, Linux load over SSH, and threshold rules over
the demo series (CPU, inbound traffic, round-trip time) plus one for the UPS readings.
The monitors are disabled, as the demo addresses are fictional; the rules are enabled
except the UPS one, whose monitor is off.
"""

from __future__ import annotations

from typing import Any

from opsconductor_desktop.services.app import Core

MONITORS: tuple[dict[str, Any], ...] = (
    {
        "name": "dc-ssh-port",
        "kind": "reachability",
        "description": "Servers accept SSH (disabled: the demo addresses are fictional)",
        "enabled": False,
        "method": "tcp",
        "port": 22,
        "down_after": 3,
        "interval": 60,
        "timeout": 3,
        "select": {"rule": "kind:server and not tag:lab"},
    },
    {
        "name": "ups-battery",
        "kind": "snmp",
        "description": "UPS charge and output load (UPS-MIB); disabled like the others",
        "enabled": False,
        "interval": "5m",
        "select": {"groups": ["power"]},
        "metrics": [
            {"name": "upsBatteryCharge", "oid": "1.3.6.1.2.1.33.1.2.4.0", "type": "gauge"},
            {"name": "upsOutputLoad", "oid": "1.3.6.1.2.1.33.1.4.4.1.5", "walk": True},
        ],
    },
    {
        "name": "linux-load",
        "kind": "ssh",
        "description": "One-minute load average of the lab servers",
        "enabled": False,
        "interval": "2m",
        "timeout": 20,
        "select": {"groups": ["lab-sandbox"]},
        "metrics": [
            {"name": "load1", "command": "cat /proc/loadavg", "regex": r"^(\S+)"},
        ],
    },
)

RULES: tuple[dict[str, Any], ...] = (
    {
        "name": "cpu-high",
        "description": "Sustained CPU on the backbone: check for a routing storm or a DoS",
        "metric": "cpuLoad",
        "op": ">",
        "threshold": 90,
        "clear": 80,
        "for": "5m",
        "severity": "major",
        "scope": {"groups": ["core-network"], "tags": ["edge"]},
        "summary": "{target} CPU at {value:.0f}% (over {threshold:g}% for 5 minutes)",
    },
    {
        "name": "if-util",
        "description": "Inbound traffic above 80% of a 10G uplink",
        "metric": "ifHCIn.*",
        "op": ">",
        "threshold": 8e9,
        "clear": 7e9,
        "for": "10m",
        "severity": "minor",
        "summary": "{target} {metric} inbound at {value:.3g} bit/s",
    },
    {
        "name": "wan-latency",
        "metric": "rtt_ms",
        "op": ">",
        "threshold": 50,
        "for_checks": 3,
        "clear_checks": 2,
        "severity": "warning",
        "summary": "{target} round trip {value:.1f} ms (over {threshold:g} ms)",
    },
    {
        "name": "ups-on-battery",
        "description": "Enable with the ups-battery monitor",
        "enabled": False,
        "metric": "upsBatteryCharge",
        "op": "<",
        "threshold": 30,
        "clear": 50,
        "severity": "critical",
        "scope": {"groups": ["power"]},
        "summary": "{target} battery at {value:.0f}%",
    },
)


async def populate_monitoring(core: Core) -> int:
    """Store the demo monitors and rules (an existing one of the same name is replaced);
    how many definitions were stored."""
    for monitor in MONITORS:
        await core.monitoring.save_monitor(monitor)
    for rule in RULES:
        await core.monitoring.save_rule(rule)
    return len(MONITORS) + len(RULES)
