"""Believable alerts for the demo estate, made the way real ones are: through the alert
service (the one alert manager), from the sources a NOC sees, over the last hours.

The mix: a core BGP session down (critical), a branch office unreachable whose firewall
and switch are suppressed by it (parent down), an uplink acknowledged with a ticket and an
expiry, a CPU alarm, a volume filling up (acknowledged), an access port flapping, a UPS
that went on battery and came back (resolved by its source), a disk an operator cleaned
up (resolved by hand), a firewall under a maintenance silence, a syslog note. The SNMP
alert of ``fra2-core-rtr-01`` matches the demo metrics (its agent stopped answering).
Only alerts of targets the estate has are made (a small demo estate gets fewer).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.domain.silences import Matchers
from opsconductor_desktop.domain.targets import TargetSpec
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.services.alerts import AlertService
from opsconductor_desktop.services.app import Core

S = Severity


@dataclass(frozen=True, slots=True)
class DemoAlerts:
    """What ``populate_alerts`` made."""

    open: Counter[Severity]
    resolved: int
    silences: int

    def line(self) -> str:
        worst = ", ".join(f"{self.open[s]} {s.label}" for s in sorted(self.open, reverse=True))
        return (
            f"alerts: {sum(self.open.values())} open ({worst or 'none'}), "
            f"{self.resolved} resolved, {self.silences} silence(s)"
        )


def _alert(
    target: str,
    source: str,
    key: str,
    severity: Severity,
    summary: str,
    *,
    clear: bool = False,
    reachability: bool = False,
    **details: Any,
) -> NormalizedAlert:
    return NormalizedAlert(
        source=source,
        key=key,
        severity=Severity.CLEAR if clear else severity,
        summary=summary,
        target=target,
        details=details,
        clear=clear,
        reachability=reachability,
    )


class _Writer:
    """Submits alerts at given minutes ago; acts as named operators."""

    def __init__(self, core: Core, names: set[str]) -> None:
        self.core = core
        self.names = names
        self.now = utcnow()
        self.services: dict[str, AlertService] = {}

    def has(self, *targets: str) -> bool:
        return all(t in self.names for t in targets)

    def at(self, minutes_ago: float) -> datetime:
        return self.now - timedelta(minutes=minutes_ago)

    async def seen(self, alert: NormalizedAlert, *minutes_ago: float) -> None:
        """The source reports ``alert`` at each of these times (oldest first)."""
        for ago in sorted(minutes_ago, reverse=True):
            await self.core.alerts.submit([alert], now=self.at(ago))

    def operator(self, name: str) -> AlertService:
        """The alert service acting as ``name`` (the audit and history say who)."""
        if name not in self.services:
            ctx = replace(self.core.ctx, actor=name)
            self.services[name] = AlertService(ctx, self.core.alerts.manager)
        return self.services[name]

    async def id_of(self, target: str, key: str) -> Any:
        (found,) = [
            a
            for a in await self.core.alerts.list(status="open", target=target, limit=50)
            if a.key == key
        ]
        return found.id


async def populate_alerts(core: Core, specs: Sequence[TargetSpec]) -> DemoAlerts:
    """Write the demo alerts (see the module docstring) for the targets in ``specs``."""
    w = _Writer(core, {s.name for s in specs})
    await _backbone(w)
    await _branch_down(w)
    await _acknowledged(w)
    await _flapping_and_notes(w)
    await _resolved(w)
    silences = await _maintenance(w)
    open_alerts = await core.alerts.list(status="open", limit=1000)
    resolved = await core.alerts.list(status="resolved", limit=1000)
    return DemoAlerts(Counter(a.severity for a in open_alerts), len(resolved), silences)


async def _backbone(w: _Writer) -> None:
    if w.has("ams1-core-rtr-01"):
        bgp = _alert(
            "ams1-core-rtr-01",
            "rule",
            "bgp-peer:10.10.255.2",
            S.CRITICAL,
            "BGP session to 10.10.255.2 (AS 64512, transit-a) down: 812,334 prefixes withdrawn",
            peer="10.10.255.2",
            peer_as=64512,
            state="Idle",
            last_error="Hold Timer Expired",
        )
        await w.seen(bgp, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
    if w.has("fra2-core-rtr-01"):
        snmp = _alert(
            "fra2-core-rtr-01",
            "rule",
            "snmp-basics:snmp",
            S.MAJOR,
            "SNMP agent not responding: no response after 2 retries (timeout 10 s)",
            monitor="snmp-basics",
            failures=40,
        )
        await w.seen(snmp, 40, 30, 20, 10, 1)
    if w.has("lon1-edge-fw-01"):
        cpu = _alert(
            "lon1-edge-fw-01",
            "rule",
            "cpu-high:cpu.util",
            S.MAJOR,
            "CPU 94% for 10 min (threshold 90%)",
            value=94.2,
            threshold=90,
            duration_s=600,
        )
        await w.seen(cpu, 7, 5, 3, 1)


async def _branch_down(w: _Writer) -> None:
    """The Madrid branch's router is down: its firewall and switch are suppressed by it."""
    router, fw, switch = "mad-br1-edge-rtr-01", "mad-br1-fw-01", "mad-br1-acc-sw-01"
    if not w.has(router):
        return
    down = "Unreachable: no ICMP reply for 3 checks (last reply 22 min ago)"
    await w.seen(
        _alert(router, "reachability", "core-ping", S.CRITICAL, down, reachability=True), 21, 1
    )
    for child in (fw, switch):
        if w.has(child):
            alert = _alert(child, "reachability", "core-ping", S.MAJOR, down, reachability=True)
            await w.seen(alert, 20, 1)


async def _acknowledged(w: _Writer) -> None:
    if w.has("ams1-dist-sw-02"):
        uplink = _alert(
            "ams1-dist-sw-02",
            "trap",
            "linkDown:Ethernet1/49",
            S.MAJOR,
            "Ethernet1/49 down (uplink to ams1-core-rtr-02); traffic on the second uplink",
            ifIndex=49,
            ifDescr="Ethernet1/49",
            trap="IF-MIB::linkDown",
        )
        await w.seen(uplink, 95, 94)
        maria = w.operator("maria.k")
        await maria.acknowledge(
            [await w.id_of("ams1-dist-sw-02", "linkDown:Ethernet1/49")],
            comment="Optic failed; swap booked with DC hands, ticket INC-20417",
            expires=w.now + timedelta(hours=4),
        )
    if w.has("nyc3-nas-01"):
        volume = _alert(
            "nyc3-nas-01",
            "rule",
            "volume-used:vol_backup",
            S.MINOR,
            "Volume vol_backup 87% full (threshold 85%)",
            value=87.3,
            threshold=85,
        )
        await w.seen(volume, 300, 200, 100, 2)
        await w.operator("j.okafor").acknowledge(
            [await w.id_of("nyc3-nas-01", "volume-used:vol_backup")],
            comment="Old snapshots are pruned by tonight's job; watching",
        )


async def _flapping_and_notes(w: _Writer) -> None:
    if w.has("ams1-acc-sw-01"):
        port = _alert(
            "ams1-acc-sw-01",
            "trap",
            "linkDown:Gi1/0/24",
            S.MINOR,
            "Gi1/0/24 down (access point uplink)",
            ifIndex=10124,
            ifDescr="GigabitEthernet1/0/24",
        )
        back = replace(port, severity=S.CLEAR, clear=True)
        for n in range(16):  # down, up, down, up … every two minutes: it flaps
            await w.core.alerts.submit([back if n % 2 else port], now=w.at(32 - 2 * n))
    if w.has("lon1-core-rtr-01"):
        note = _alert(
            "lon1-core-rtr-01",
            "syslog",
            "config-changed",
            S.INFO,
            "Configuration changed by netops via ssh (vty0 from 10.30.100.21)",
            facility="local7",
            message="%SYS-5-CONFIG_I: Configured from console by netops on vty0",
        )
        await w.seen(note, 26)
    if w.has("osl-br1-ups-01"):
        battery = _alert(
            "osl-br1-ups-01",
            "trap",
            "upsBatteryTestFailed",
            S.WARNING,
            "Battery self-test failed: replace the battery pack",
            trap="UPS-MIB::upsTrapTestCompleted",
            result="failed",
        )
        await w.seen(battery, 180, 60, 15)
    ntp = next((n for n in ("sin1-srv-01", "ams1-srv-01") if w.has(n)), None)
    if ntp is not None:
        offset = _alert(
            ntp, "rule", "ntp-offset:ntp.offset", S.WARNING, "NTP offset 182 ms (threshold 100 ms)"
        )
        await w.seen(offset, 50, 25, 3)


async def _resolved(w: _Writer) -> None:
    if w.has("fra2-ups-01"):
        on_battery = _alert(
            "fra2-ups-01",
            "trap",
            "upsOnBattery",
            S.MAJOR,
            "On battery: mains lost, 42 min of runtime left",
            trap="UPS-MIB::upsTrapOnBattery",
        )
        await w.seen(on_battery, 140, 138)
        await w.seen(replace(on_battery, severity=S.CLEAR, clear=True), 134)
    if w.has("ams1-srv-02"):
        disk = _alert("ams1-srv-02", "rule", "disk-used:/var", S.WARNING, "/var 92% full")
        await w.seen(disk, 240, 180, 120)
        await w.operator("maria.k").resolve(
            [await w.id_of("ams1-srv-02", "disk-used:/var")],
            comment="Rotated and compressed the application logs; 41% used now",
        )
    if w.has("ams1-lb-01"):
        pool = _alert(
            "ams1-lb-01",
            "rule",
            "pool-members:web-prod",
            S.MAJOR,
            "Pool web-prod: 1 of 4 members down",
        )
        await w.seen(pool, 400, 390)
        await w.seen(replace(pool, severity=S.CLEAR, clear=True), 380)


async def _maintenance(w: _Writer) -> int:
    """A firewall under a maintenance silence raises an alert: it arrives suppressed."""
    target = "lon1-edge-fw-02"
    if not w.has(target):
        return 0
    await w.operator("s.lindqvist").add_silence(
        Matchers(target=target),
        starts_at=w.at(15),
        ends_at=w.now + timedelta(hours=2),
        comment="CHG-3312: firmware upgrade to 11.1.4, HA failover expected",
    )
    ha = _alert(target, "trap", "ha-peer-lost", S.MAJOR, "HA peer lost: running standalone")
    await w.core.alerts.submit([ha], now=w.at(4))
    return 1
