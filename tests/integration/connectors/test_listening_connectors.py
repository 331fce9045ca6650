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
from opsconductor_desktop.domain.credentials import CredentialKind, Secret
from opsconductor_desktop.domain.errors import ValidationError
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
        assert (await core.connectors.get("logs")).open_alerts == 1  # the pane's count
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
        assert alert.details["connector"] == "traps"
        assert (await core.connectors.get("traps")).open_alerts == 1  # the pane's count
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


@pytest.mark.skipif(shutil.which("snmptrap") is None, reason="net-snmp snmptrap not installed")
async def test_trap_connector_takes_v3_users_from_stored_credentials(lite: Any) -> None:
    """SNMPv3 (authPriv SHA/AES) traps sent by net-snmp's snmptrap are accepted for the
    users the connector's ``v3_users`` names; a user it does not name is a counted
    rejection; the keys appear in no error, log or listing."""
    core = lite
    await core.inventory.create_target(TargetSpec("sw-3", "127.0.0.1"))
    auth_key, priv_key = "trap-auth-key-2026", "trap-priv-key-2026"
    await core.credentials.create(
        "noc-traps",
        CredentialKind.SNMPV3,
        Secret({"auth_key": auth_key, "priv_key": priv_key}),
        username="noctrap",
        auth_protocol="sha",
        priv_protocol="aes",
    )
    await core.credentials.create(
        "ssh-admin", CredentialKind.SSH_PASSWORD, Secret({"password": "x" * 12}), username="a"
    )
    port = free_udp_port()
    with pytest.raises(ValidationError, match="ssh-password credential; a snmpv3 one"):
        await core.connectors.add(
            "snmp-trap", name="v3traps", settings={"v3_users": "noc-traps, ssh-admin"}
        )
    await core.connectors.add(
        "snmp-trap",
        name="v3traps",
        settings={"address": "127.0.0.1", "port": str(port), "v3_users": "noc-traps"},
    )
    await core.connectors.enable("v3traps")
    info = await core.connectors.get("v3traps")
    assert info.settings["v3_users"] == "noc-traps"
    (status,) = await core.connectors.start_receivers()
    assert status.outcome == "started", status
    link = "1.3.6.1.2.1.2.2.1.1.9"
    v3 = ["snmptrap", "-v", "3", "-l", "authPriv", "-a", "SHA", "-x", "AES"]
    v3 += ["-e", "0x8000000001020304"]
    try:
        await run(
            *v3, "-u", "noctrap", "-A", auth_key, "-X", priv_key, f"udp:127.0.0.1:{port}",
            "", "1.3.6.1.6.3.1.1.5.3", link, "i", "9",
        )  # fmt: skip

        async def opened() -> list[Any]:
            return await core.alerts.list(status="open", target="sw-3")

        (alert,) = await until(opened)
        assert alert.key.startswith("linkDown") and alert.details["user"] == "noctrap"
        await run(
            *v3, "-u", "stranger", "-A", auth_key, "-X", priv_key, f"udp:127.0.0.1:{port}",
            "", "1.3.6.1.6.3.1.1.5.4", link, "i", "9",
        )  # fmt: skip
        await asyncio.sleep(0.5)
        assert await core.alerts.list(status="open", target="sw-3")  # not cleared
    finally:
        await core.connectors.stop_receivers()
    info = await core.connectors.get("v3traps")
    assert info.counters["received"] == 2 and info.counters["rejected"] == 1
    shown = repr(info) + str(info.counters)
    assert auth_key not in shown and priv_key not in shown
