"""The bundled syslog and SNMP trap connectors end to end: the connector service starts
the real receivers, real clients (``logger``, net-snmp ``snmptrap``) send on loopback, and
the alerts land in the database through the one alert manager."""

from __future__ import annotations

import asyncio
import shutil
import socket
from typing import Any

import pytest

from opsconductor_desktop.domain.alerts import AlertStatus
from opsconductor_desktop.domain.targets import TargetSpec


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(*argv)
    assert await proc.wait() == 0, argv


async def until(predicate: Any, within: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await predicate()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.1)


@pytest.mark.skipif(shutil.which("logger") is None, reason="util-linux logger not installed")
async def test_syslog_connector_turns_logger_lines_into_alerts(lite: Any) -> None:
    core = lite
    await core.inventory.create_target(TargetSpec("edge-1", "127.0.0.1"))
    port = free_udp_port()
    await core.connectors.add(
        "syslog", name="logs", settings={"address": "127.0.0.1", "port": str(port)}
    )
    await core.connectors.enable("logs")
    (status,) = await core.connectors.start_receivers()
    assert status.outcome == "started", status
    try:
        line = "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down"
        await run("logger", "-n", "127.0.0.1", "-P", str(port), "-d", "--rfc3164", line)

        async def opened() -> list[Any]:
            return await core.alerts.list(status="open", target="edge-1")

        (alert,) = await until(opened)
        assert alert.status is AlertStatus.ACTIVE and "GigabitEthernet0/1" in alert.summary
        line = line.replace("to down", "to up")
        await run("logger", "-n", "127.0.0.1", "-P", str(port), "-d", "--rfc3164", line)

        async def cleared() -> bool:
            return not await core.alerts.list(status="open", target="edge-1")

        assert await until(cleared)
    finally:
        await core.connectors.stop_receivers()
    info = await core.connectors.get("logs")
    assert info.counters["received"] == 2 and info.counters["matched"] == 2


@pytest.mark.skipif(shutil.which("snmptrap") is None, reason="net-snmp snmptrap not installed")
async def test_trap_connector_turns_snmptrap_into_alerts(lite: Any) -> None:
    core = lite
    await core.inventory.create_target(TargetSpec("sw-1", "127.0.0.1"))
    port = free_udp_port()
    await core.connectors.add(
        "snmp-trap",
        name="traps",
        settings={"address": "127.0.0.1", "port": str(port), "communities": "lab-traps-community"},
    )
    await core.connectors.enable("traps")
    (status,) = await core.connectors.start_receivers()
    assert status.outcome == "started", status
    link = "1.3.6.1.2.1.2.2.1.1.7"
    try:
        await run(
            "snmptrap", "-v", "2c", "-c", "lab-traps-community", f"udp:127.0.0.1:{port}", "",
            "1.3.6.1.6.3.1.1.5.3", link, "i", "7",
        )  # fmt: skip

        async def opened() -> list[Any]:
            return await core.alerts.list(status="open", target="sw-1")

        (alert,) = await until(opened)
        assert alert.key.startswith("linkDown") and alert.source == "trap"
        await run(
            "snmptrap", "-v", "2c", "-c", "lab-traps-community", f"udp:127.0.0.1:{port}", "",
            "1.3.6.1.6.3.1.1.5.4", link, "i", "7",
        )  # fmt: skip

        async def cleared() -> bool:
            return not await core.alerts.list(status="open", target="sw-1")

        assert await until(cleared)
        await run(
            "snmptrap", "-v", "2c", "-c", "wrong", f"udp:127.0.0.1:{port}", "",
            "1.3.6.1.6.3.1.1.5.3", link, "i", "7",
        )  # fmt: skip
        await asyncio.sleep(0.5)
    finally:
        await core.connectors.stop_receivers()
    info = await core.connectors.get("traps")
    assert info.counters["received"] == 3 and info.counters["rejected"] == 1
