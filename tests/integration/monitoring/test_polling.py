"""Monitoring end to end: dispatcher, poller, samples, rules and the alert manager, against
a real SNMP agent whose values change (snmpsim writecache) and real TCP listeners, on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from support.snmpsim import DynamicAgent, DynamicDevice, DynOids

from opsconductor_desktop.domain.alerts import AlertStatus, Severity
from opsconductor_desktop.domain.credentials import CredentialKind, Secret
from opsconductor_desktop.domain.groups import GroupSpec
from opsconductor_desktop.domain.silences import Matchers
from opsconductor_desktop.domain.targets import SnmpProfile, SnmpVersion, TargetSpec
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.app import Core, open_core

TICKS_PER_MIN = 6000  # sysUpTime hundredths of a second


async def add_device(core: Core, name: str, device: DynamicDevice, **extra: Any) -> None:
    cred = f"c-{device.community}"
    if cred not in {c.name for c in await core.credentials.list()}:
        await core.credentials.create(
            cred, CredentialKind.SNMP_COMMUNITY, Secret({"community": device.community})
        )
    await core.inventory.create_target(
        TargetSpec(
            name,
            device.host,
            snmp=SnmpProfile(SnmpVersion.V2C, device.port, cred),
            **extra,
        )
    )


def snmp_monitor(targets: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "name": "dev",
        "kind": "snmp",
        "interval": 60,
        "timeout": 2,
        "retries": 1,
        "select": {"targets": targets},
        "metrics": [
            {"name": "gauge", "oid": DynOids.GAUGE, "type": "gauge"},
            {"name": "octets", "oid": DynOids.COUNTER32, "type": "counter", "scale": 8},
            {"name": "missing", "oid": DynOids.MISSING, "type": "gauge"},
            {"name": "ifHCIn", "oid": DynOids.IF_HC_IN_OCTETS, "type": "counter", "walk": True},
        ],
        **extra,
    }


async def tick(device: DynamicDevice, core: Core, **deltas: int) -> None:
    """One minute passes on the device: uptime +60 s and the given counter deltas."""
    changes = {DynOids.SYS_UPTIME: TICKS_PER_MIN}
    changes.update({getattr(DynOids, k.upper()): v for k, v in deltas.items()})
    await device.advance(changes, driver=core.jobs.executor.snmp)


@pytest.fixture
async def fresh(dyn_agent: DynamicAgent, core: Core) -> Core:
    await dyn_agent.reset(driver=core.jobs.executor.snmp)
    return core


async def test_rates_threshold_alert_and_automatic_resolution(
    dyn_agent: DynamicAgent, fresh: Core
) -> None:
    core, dev = fresh, dyn_agent.devices[0]
    await add_device(core, "r1", dev)
    await core.monitoring.save_monitor(snmp_monitor(["r1"]))
    await core.monitoring.save_rule(
        {
            "name": "gauge-high",
            "metric": "gauge",
            "op": ">",
            "threshold": 50,
            "clear": 40,
            "for_checks": 2,
            "severity": "major",
        }
    )
    snmp = core.jobs.executor.snmp
    report = await core.polling.round(every=True)
    assert (report.checks, report.ok) == (1, 1)
    assert report.samples == 1  # the gauge; counters only give a baseline on first contact
    (state,) = await core.monitoring.check_states(target="r1")
    assert state.ok and "missing: noSuch" in state.error  # partly ok, the gap named

    await tick(dev, core, counter32=60_000)
    await dev.advance({DynOids.row(DynOids.IF_HC_IN_OCTETS, 2): 6_000_000}, driver=snmp)
    await dev.set_values({DynOids.GAUGE: 70}, driver=snmp)
    report = await core.polling.round(every=True)
    points = await core.monitoring.points("r1", "octets", start=utcnow() - timedelta(hours=1))
    assert points.values == (8000.0,), (
        report,
        await core.monitoring.series("r1"),
    )  # 60,000 octets in 60 s of uptime, times 8
    hc = await core.monitoring.points("r1", "ifHCIn.2", start=utcnow() - timedelta(hours=1))
    assert hc.values == (100_000.0,)
    assert not await core.alerts.list(status="open")  # one breaching check of the two

    await tick(dev, core, counter32=60_000)
    report = await core.polling.round(every=True)
    (alert,) = await core.alerts.list(status="open")
    assert (alert.severity, alert.source, alert.target) == (Severity.MAJOR, "rule", "r1")
    assert "gauge" in alert.summary

    await tick(dev, core)
    await dev.set_values({DynOids.GAUGE: 45}, driver=snmp)  # under 50, above the clear 40
    await core.polling.round(every=True)
    assert len(await core.alerts.list(status="open")) == 1  # hysteresis holds it

    await tick(dev, core)
    await dev.set_values({DynOids.GAUGE: 30}, driver=snmp)
    report = await core.polling.round(every=True)
    assert report.alerts_resolved == 1
    assert not await core.alerts.list(status="open")
    assert [s.series for s in await core.monitoring.series("r1")] == [
        "gauge",
        "ifHCIn.1",
        "ifHCIn.2",
        "ifHCIn.3",
        "octets",
    ]


async def test_wrap_and_reboot_give_no_false_values(dyn_agent: DynamicAgent, fresh: Core) -> None:
    core, dev = fresh, dyn_agent.devices[1]
    await add_device(core, "r2", dev)
    await core.monitoring.save_monitor(snmp_monitor(["r2"]))
    await core.monitoring.save_rule(
        {"name": "traffic", "metric": "octets", "op": ">", "threshold": 1e6, "severity": "minor"}
    )
    snmp = core.jobs.executor.snmp
    await dev.set_values({DynOids.COUNTER32: 2**32 - 1000}, driver=snmp)
    await core.polling.round(every=True)
    await tick(dev, core, counter32=7000)  # wraps past 2^32
    await core.polling.round(every=True)
    await dev.reboot(uptime=100, driver=snmp)  # counters to 0, uptime 1 s
    await core.polling.round(every=True)
    await tick(dev, core, counter32=600)
    await core.polling.round(every=True)
    points = await core.monitoring.points("r2", "octets", start=utcnow() - timedelta(hours=1))
    assert points.values == (7000 / 60 * 8, 600 / 60 * 8)  # the reboot stored nothing
    assert not await core.alerts.list(status="open")
    (state,) = await core.monitoring.check_states(target="r2")
    assert state.ok


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def listener() -> Iterator[Any]:
    """A TCP listener on loopback that the test opens and closes."""

    class Listener:
        def __init__(self) -> None:
            self.port = free_port()
            self.sock: socket.socket | None = None

        def up(self) -> None:
            if self.sock is None:
                self.sock = socket.socket()
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self.sock.bind(("127.0.0.1", self.port))
                self.sock.listen(50)

        def down(self) -> None:
            if self.sock is not None:
                self.sock.close()
                self.sock = None

    item = Listener()
    try:
        yield item
    finally:
        item.down()


def reach_monitor(name: str, port: int, targets: list[str], down_after: int = 1) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "reachability",
        "method": "tcp",
        "port": port,
        "down_after": down_after,
        "interval": 30,
        "timeout": 1,
        "retries": 0,
        "select": {"targets": targets},
    }


async def test_dependency_suppression_and_children_still_resolve(core: Core, listener: Any) -> None:
    await core.inventory.create_target(TargetSpec("core-sw", "127.0.0.1"))
    await core.inventory.create_target(TargetSpec("edge-1", "127.0.0.2", parent="core-sw"))
    await core.monitoring.save_monitor(reach_monitor("ping", listener.port, ["core-sw"]))
    await core.monitoring.save_monitor(reach_monitor("ping-edge", listener.port, ["edge-1"]))
    listener.down()
    await core.polling.round(every=True)  # both down in the same round
    await core.polling.round(every=True)
    alerts = {a.target: a for a in await core.alerts.list(status="open")}
    assert alerts["core-sw"].status is AlertStatus.ACTIVE
    assert alerts["edge-1"].status is AlertStatus.SUPPRESSED  # the parent is down
    assert alerts["edge-1"].suppressed_by
    listener.up()  # listening on 127.0.0.1 only: the child stays down, the parent comes up
    await core.polling.round(every=True)
    alerts = {a.target: a for a in await core.alerts.list(status="open")}
    assert set(alerts) == {"edge-1"}
    with socket.socket() as edge:  # the child answers too: its suppressed alert resolves
        edge.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        edge.bind(("127.0.0.2", listener.port))
        edge.listen(5)
        await core.polling.round(every=True)
    assert not await core.alerts.list(status="open")


async def test_flapping_keeps_one_alert_marked_flapping(core: Core, listener: Any) -> None:
    await core.inventory.create_target(TargetSpec("flappy", "127.0.0.1"))
    await core.monitoring.save_monitor(reach_monitor("svc", listener.port, ["flappy"]))
    for i in range(14):
        listener.up() if i % 2 else listener.down()
        await core.polling.round(every=True)
    alerts = await core.alerts.list(status="all", target="flappy")
    open_alerts = [a for a in alerts if a.status is not AlertStatus.RESOLVED]
    assert len(open_alerts) == 1 and open_alerts[0].flapping
    assert len(alerts) < 7  # without flap detection: one alert per outage (7)


async def test_acknowledgement_expiry_and_silence_start_and_end(core: Core, listener: Any) -> None:
    await core.inventory.create_target(TargetSpec("srv", "127.0.0.1", tags=("lab",)))
    await core.monitoring.save_monitor(reach_monitor("svc", listener.port, ["srv"]))
    listener.down()
    await core.polling.round(every=True)
    (alert,) = await core.alerts.list(status="open")
    await core.alerts.acknowledge(
        [alert.id], comment="on it", expires=utcnow() + timedelta(milliseconds=300)
    )
    assert (await core.alerts.get(alert.id)).status is AlertStatus.ACKNOWLEDGED
    await asyncio.sleep(0.4)
    polling = core.polling
    await polling.prepare()
    await polling.dispatcher.run_round(kinds=("maintain",), every=True)  # the dispatcher's job
    info = await core.alerts.get(alert.id)
    assert info.status is AlertStatus.ACTIVE
    assert [e.to_status for e in info.events][-1] is AlertStatus.ACTIVE

    start = utcnow() + timedelta(seconds=1)
    await core.alerts.add_silence(
        Matchers(tag="lab"), starts_at=start, ends_at=start + timedelta(minutes=5), comment="rack"
    )
    assert (await core.alerts.get(alert.id)).status is AlertStatus.ACTIVE  # not started yet
    await core.alerts.maintain(now=start + timedelta(seconds=1))
    assert (await core.alerts.get(alert.id)).status is AlertStatus.SUPPRESSED
    await core.alerts.maintain(now=start + timedelta(minutes=6))
    assert (await core.alerts.get(alert.id)).status is AlertStatus.ACTIVE


async def test_restart_with_open_alerts_loses_and_duplicates_nothing(
    dyn_agent: DynamicAgent, db_url: str, home: Path, listener: Any
) -> None:
    async def opened() -> Core:
        return await open_core(home=home, db_url=db_url, secrets=SecretStore(), actor="t")

    core = await opened()
    dev = dyn_agent.devices[2]
    await dyn_agent.devices[2].reset(driver=core.jobs.executor.snmp)
    await add_device(core, "r3", dev)
    await core.monitoring.save_monitor(snmp_monitor(["r3"]))
    await core.monitoring.save_monitor(reach_monitor("svc", listener.port, ["r3"]))
    await core.monitoring.save_rule(
        {"name": "g", "metric": "gauge", "op": ">=", "threshold": 50, "severity": "critical"}
    )
    await dev.set_values({DynOids.GAUGE: 90}, driver=core.jobs.executor.snmp)
    listener.down()
    await core.polling.round(every=True)
    before = {a.id: a.key for a in await core.alerts.list(status="open")}
    assert sorted(before.values()) == ["g:gauge", "svc"]
    await core.close()

    core = await opened()  # a new process: the evaluator knows nothing but the database
    try:
        await core.polling.round(every=True)  # still breaching, still down: same alerts
        still = {a.id: a for a in await core.alerts.list(status="open")}
        assert set(still) == set(before)  # not reopened: the evaluator was re-seeded
        assert all(a.count == 1 and a.status is AlertStatus.ACTIVE for a in still.values())
        await dev.set_values({DynOids.GAUGE: 10}, driver=core.jobs.executor.snmp)
        listener.up()
        await core.polling.round(every=True)
        assert not await core.alerts.list(status="open")  # both clear after the restart
        assert len(await core.alerts.list(status="all")) == 2
    finally:
        await core.close()


async def test_group_membership_change_is_planned_without_restart(
    core: Core, listener: Any
) -> None:
    listener.up()
    await core.inventory.create_target(TargetSpec("a1", "127.0.0.1"))
    await core.inventory.create_target(TargetSpec("a2", "127.0.0.1"))
    await core.inventory.create_group(GroupSpec("web"), members=["a1"])
    monitor = reach_monitor("svc", listener.port, [])
    monitor["select"] = {"groups": ["web"]}
    await core.monitoring.save_monitor(monitor)
    report = await core.polling.round(every=True)
    assert report.checks == 1
    await core.inventory.add_members("web", ["a2"])
    report = await core.polling.round(every=True)
    assert report.checks == 2
    states = await core.monitoring.check_states(monitor="svc")
    assert sorted(s.target for s in states) == ["a1", "a2"]


class _Garbage(asyncio.DatagramProtocol):
    """Answers every datagram with bytes that are not SNMP."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(b"\x30\x03\x02\x01garbage-not-ber", addr)


async def test_garbage_silent_and_missing_agents_only_affect_themselves(
    dyn_agent: DynamicAgent, fresh: Core
) -> None:
    core = fresh
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_Garbage, local_addr=("127.0.0.1", 0))
    garbage_port = transport.get_extra_info("sockname")[1]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never answers
        silent_port = silent.getsockname()[1]
        try:
            await add_device(core, "good", dyn_agent.devices[0])
            for name, port in (("garbage", garbage_port), ("silent", silent_port)):
                await core.inventory.create_target(
                    TargetSpec(
                        name,
                        "127.0.0.1",
                        snmp=SnmpProfile(SnmpVersion.V2C, port, "c-dynamic0"),
                    )
                )
            monitor = snmp_monitor(["good", "garbage", "silent"])
            monitor["timeout"], monitor["retries"] = 0.5, 0
            await core.monitoring.save_monitor(monitor)
            await core.monitoring.save_rule(
                {"name": "any", "metric": "*", "op": ">=", "threshold": -1, "severity": "info"}
            )
            report = await core.polling.round(every=True)
        finally:
            transport.close()
    assert (report.checks, report.ok, report.failed) == (3, 1, 2)
    states = {s.target: s for s in await core.monitoring.check_states()}
    assert states["good"].ok
    assert not states["garbage"].ok and states["garbage"].error
    assert not states["silent"].ok and "no SNMP answer" in states["silent"].error
    targets = {a.target for a in await core.alerts.list(status="open")}
    assert targets == {"good"}  # failing devices raise no false threshold alerts


async def test_two_consoles_follow_each_others_alerts(
    dyn_agent: DynamicAgent, db_url: str, home: Path
) -> None:
    """Team mode: a check runs on either console. An alert opened by one is cleared by the
    other when the problem ends; an alert an operator resolves while the problem persists
    is raised again by a console that had it firing."""
    one = await open_core(home=home / "one", db_url=db_url, secrets=SecretStore(), actor="a")
    two = await open_core(home=home / "two", db_url=db_url, secrets=SecretStore(), actor="b")
    try:
        dev = dyn_agent.devices[1]
        await dev.reset(driver=one.jobs.executor.snmp)
        await add_device(one, "r2", dev)
        await one.monitoring.save_monitor(snmp_monitor(["r2"]))
        await one.monitoring.save_rule(
            {"name": "g", "metric": "gauge", "op": ">=", "threshold": 50, "severity": "major"}
        )
        await two.polling.round(every=True)  # console two starts: nothing open, nothing firing
        await dev.set_values({DynOids.GAUGE: 90}, driver=one.jobs.executor.snmp)
        await one.polling.round(every=True)  # console one sees the problem first
        (opened,) = await one.alerts.list(status="open")
        await dev.set_values({DynOids.GAUGE: 10}, driver=one.jobs.executor.snmp)
        await two.polling.round(every=True)  # the next check ran on console two
        assert (await two.alerts.get(opened.id)).status is AlertStatus.RESOLVED

        await dev.set_values({DynOids.GAUGE: 95}, driver=one.jobs.executor.snmp)
        await two.polling.round(every=True)
        (again,) = await two.alerts.list(status="open")
        await one.alerts.resolve([again.id], comment="looked fine to me")
        await two.polling.round(every=True)  # still 95: console two raises it again
        (raised,) = await two.alerts.list(status="open")
        assert raised.id != again.id and raised.key == "g:gauge"
    finally:
        await two.close()
        await one.close()
