"""The SNMP trap receiver on loopback: real senders (pysnmp, net-snmp), real alert service."""

from __future__ import annotations

import asyncio
import errno
import os
import random
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    Counter64,
    Integer,
    IpAddress,
    NotificationType,
    ObjectIdentity,
    OctetString,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    send_notification,
    usmAesCfb128Protocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMACSHAAuthProtocol,
)

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.targets import TargetSpec
from opsconductor_desktop.domain.traps import TrapRules
from opsconductor_desktop.runtime.receivers.traps import TrapReceiver, load_rules

LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
LINK_UP = "1.3.6.1.6.3.1.1.5.4"
COLD_START = "1.3.6.1.6.3.1.1.5.1"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
PINNED_ENGINE = "80001f8880aabbccdd01"
USERS = [
    ("ops-aes", "sha", "auth-secret-1", "aes", "priv-secret-1"),  # any engine (learned)
    ("ops-pinned", "sha256", "auth-secret-2", "none", None, PINNED_ENGINE),
]
AES_USER = UsmUserData(
    "ops-aes",
    "auth-secret-1",
    "priv-secret-1",
    authProtocol=usmHMACSHAAuthProtocol,
    privProtocol=usmAesCfb128Protocol,
)
PINNED_USER = UsmUserData("ops-pinned", "auth-secret-2", authProtocol=usmHMAC192SHA256AuthProtocol)


class Collected:
    """A sink that keeps every alert submitted."""

    def __init__(self) -> None:
        self.alerts: list[NormalizedAlert] = []

    async def __call__(self, batch: Sequence[NormalizedAlert]) -> None:
        self.alerts.extend(batch)

    def keys(self) -> list[str]:
        return [a.key for a in self.alerts]


Start = Callable[..., Awaitable[TrapReceiver]]


@pytest.fixture(scope="module")
def rules() -> TrapRules:
    return load_rules()


@pytest.fixture
async def start(rules: TrapRules) -> AsyncIterator[Start]:
    """``await start(sink, **settings)``: a receiver on 127.0.0.1 (a free port), stopped after."""
    started: list[TrapReceiver] = []

    async def make(
        sink: Any,
        lookup: Callable[[str], str | None] = {"127.0.0.1": "lab-router"}.get,
        users: Sequence[Any] = (),
        **settings: Any,
    ) -> TrapReceiver:
        receiver = TrapReceiver(
            {"address": "127.0.0.1", "port": 0, **settings}, sink, lookup, rules=rules, users=users
        )
        await receiver.start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.stop()


async def notify(
    receiver: TrapReceiver,
    auth: Any,
    trap_oid: str,
    *varbinds: tuple[str, Any],
    kind: str = "trap",
    engine_id: str | None = None,
) -> Any:
    """Send one notification with pysnmp (its own engine: pysnmp sends a notification to
    every target its engine knows); return the error indication (None when acknowledged)."""
    engine = SnmpEngine(OctetString(hexValue=engine_id)) if engine_id else SnmpEngine()
    try:
        target = await UdpTransportTarget.create(receiver.address, timeout=1, retries=1)
        notification = NotificationType(ObjectIdentity(trap_oid)).add_varbinds(*varbinds)
        error, *_ = await send_notification(engine, auth, target, ContextData(), kind, notification)
        return error
    finally:
        engine.close_dispatcher()


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (counters of a receiver: no event to wait on)
            await asyncio.sleep(0.02)


async def capture(auth: Any, trap_oid: str, *varbinds: tuple[str, Any]) -> bytes:
    """The datagram pysnmp sends for one trap (to a socket that only listens)."""
    loop = asyncio.get_running_loop()
    got: asyncio.Future[bytes] = loop.create_future()

    class Catch(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            if not got.done():
                got.set_result(data)

    transport, _ = await loop.create_datagram_endpoint(Catch, local_addr=("127.0.0.1", 0))
    engine = SnmpEngine()
    try:
        address = transport.get_extra_info("sockname")
        target = await UdpTransportTarget.create(address, timeout=1, retries=0)
        notification = NotificationType(ObjectIdentity(trap_oid)).add_varbinds(*varbinds)
        await send_notification(engine, auth, target, ContextData(), "trap", notification)
        return await asyncio.wait_for(got, 5)
    finally:
        engine.close_dispatcher()
        transport.close()


# ---- v1, v2c, v3 ------------------------------------------------------------------------------


async def test_v2c_trap_and_acknowledged_inform_become_alerts(start: Start) -> None:
    sink = Collected()
    receiver = await start(sink)
    public = CommunityData("public")
    assert await notify(receiver, public, LINK_DOWN, (IF_INDEX + ".3", Integer(3))) is None
    # an inform is answered: pysnmp reports no error only when its Response arrived
    assert (
        await notify(receiver, public, LINK_UP, (IF_INDEX + ".3", Integer(3)), kind="inform")
        is None
    )
    await until(lambda: len(sink.alerts) == 2)
    down, up = sink.alerts
    assert (down.source, down.key, down.severity, down.target) == (
        "trap",
        "linkDown:3",
        Severity.MAJOR,
        "lab-router",
    )
    assert up.clear and up.fingerprint == down.fingerprint
    assert up.details["inform"] is True and down.details["version"] == "v2c"
    assert (receiver.counters.received, receiver.counters.matched) == (2, 2)


async def _snmptrap(*args: str) -> None:
    exe = shutil.which("snmptrap")
    if exe is None:
        pytest.skip("net-snmp's snmptrap is not installed")
    process = await asyncio.create_subprocess_exec(
        exe,
        *args,
        env={**os.environ, "MIBS": "", "MIBDIRS": "/nonexistent"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()


async def test_v1_traps_from_net_snmp_map_to_v2_trap_oids(start: Start) -> None:
    sink = Collected()
    receiver = await start(sink)
    where = "{}:{}".format(*receiver.address)
    # generic-trap 2 (linkDown) with ifIndex.7, then enterprise-specific trap 42
    await _snmptrap(
        "-v1", "-c", "public", where, "1.3.6.1.4.1.8072.3.2.10", "127.0.0.1", "2", "0", "",
        IF_INDEX + ".7", "i", "7",
    )  # fmt: skip
    await _snmptrap(
        "-v1", "-c", "public", where, "1.3.6.1.4.1.99999", "10.20.30.40", "6", "42", "",
        "1.3.6.1.4.1.99999.1.1.0", "s", "fan tray 2 removed",
    )  # fmt: skip
    await until(lambda: len(sink.alerts) == 2)
    down, unknown = sink.alerts
    assert (down.key, down.severity, down.details["version"]) == (
        "linkDown:7",
        Severity.MAJOR,
        "v1",
    )
    assert unknown.severity is Severity.INFO
    assert unknown.details["trap_oid"] == "1.3.6.1.4.1.99999.0.42"
    assert unknown.details["agent_address"] == "10.20.30.40"
    values = {row["oid"]: row["value"] for row in unknown.details["varbinds"]}
    assert values["1.3.6.1.4.1.99999.1.1.0"] == "fan tray 2 removed"
    assert values["1.3.6.1.6.3.18.1.3.0"] == "10.20.30.40"  # snmpTrapAddress.0 (RFC 3584)
    assert (receiver.counters.matched, receiver.counters.unknown) == (1, 1)


async def test_v3_traps_and_informs_through_pysnmp(start: Start) -> None:
    sink = Collected()
    receiver = await start(sink, users=USERS)
    # a user without an engine id: each sender's engine id is learned from its first trap
    assert await notify(receiver, AES_USER, COLD_START) is None
    assert await notify(receiver, AES_USER, LINK_DOWN, (IF_INDEX + ".9", Integer(9))) is None
    # an inform authenticates against the receiver's own engine id (discovered by the sender)
    assert (
        await notify(receiver, AES_USER, LINK_UP, (IF_INDEX + ".9", Integer(9)), kind="inform")
        is None
    )
    # a user pinned to one engine id
    assert await notify(receiver, PINNED_USER, COLD_START, engine_id=PINNED_ENGINE) is None
    await until(lambda: len(sink.alerts) == 4)
    cold, down, up, pinned = sink.alerts
    assert (cold.key, cold.severity, cold.details["version"], cold.details["user"]) == (
        "coldStart",
        Severity.WARNING,
        "v3",
        "ops-aes",
    )
    assert down.key == "linkDown:9" and up.clear and up.fingerprint == down.fingerprint
    assert up.details["inform"] is True
    assert pinned.details["user"] == "ops-pinned"
    assert receiver.counters.rejected == 0


async def test_unknown_communities_and_users_are_counted_rejections(start: Start) -> None:
    sink = Collected()
    receiver = await start(sink, users=USERS, communities=["public", "ops"])
    await notify(receiver, CommunityData("private"), COLD_START)
    await notify(
        receiver,
        UsmUserData("nobody", "auth-secret-9", authProtocol=usmHMACSHAAuthProtocol),
        COLD_START,
    )
    wrong_key = UsmUserData(
        "ops-aes", "not-the-key", "priv-secret-1",
        authProtocol=usmHMACSHAAuthProtocol, privProtocol=usmAesCfb128Protocol,
    )  # fmt: skip
    await notify(receiver, wrong_key, COLD_START)
    await notify(receiver, PINNED_USER, COLD_START)  # from another engine than the pinned one
    await until(lambda: receiver.counters.rejected == 4)
    await notify(receiver, CommunityData("ops"), COLD_START)  # the second community is fine
    await until(lambda: len(sink.alerts) == 1)
    reasons = [item["reason"] for item in receiver.recent.items()]
    assert reasons[0] == "unknown community (SNMPv2c)"
    assert "unknown user 'nobody'" in reasons[1]
    assert "authentication" in reasons[2] or "digest" in reasons[2]
    assert f"accepted from engine {PINNED_ENGINE} only" in reasons[3]
    assert not any("private" in reason for reason in reasons)  # a community is a secret
    assert receiver.counters.matched == 1


async def test_unknown_trap_becomes_an_info_alert_with_its_varbinds(start: Start) -> None:
    sink = Collected()
    receiver = await start(sink, lookup=lambda address: None)
    await notify(
        receiver,
        CommunityData("public"),
        "1.3.6.1.4.1.55555.0.3",
        ("1.3.6.1.4.1.55555.1.1.0", OctetString("battery pack 2 degraded")),
        ("1.3.6.1.4.1.55555.1.2.0", Counter64(2**40)),
        ("1.3.6.1.4.1.55555.1.3.0", IpAddress("192.0.2.9")),
    )
    await until(lambda: len(sink.alerts) == 1)
    (alert,) = sink.alerts
    assert alert.severity is Severity.INFO and alert.target is None
    assert alert.key == "1.3.6.1.4.1.55555.0.3@127.0.0.1"
    assert alert.details["varbinds"] == [
        {
            "oid": "1.3.6.1.4.1.55555.1.1.0",
            "type": "OctetString",
            "value": "battery pack 2 degraded",
        },
        {"oid": "1.3.6.1.4.1.55555.1.2.0", "type": "Counter64", "value": 2**40},
        {"oid": "1.3.6.1.4.1.55555.1.3.0", "type": "IpAddress", "value": "192.0.2.9"},
    ]
    (item,) = receiver.recent.items()
    assert item["kind"] == "unknown" and item["trap_oid"] == "1.3.6.1.4.1.55555.0.3"
    assert receiver.counters.unknown == 1


# ---- through the real alert service --------------------------------------------------------------


async def test_link_down_then_up_opens_and_clears_one_alert(core: Any, start: Start) -> None:
    await core.inventory.create_target(TargetSpec("edge-1", "127.0.0.1"))
    by_address = {t.address: t.name for t in await core.inventory.list_targets()}
    receiver = await start(core.alerts.submit, lookup=by_address.get)
    public = CommunityData("public")

    async def open_keys() -> list[str]:
        return sorted(a.key for a in await core.alerts.list(status="open", source="trap"))

    await notify(receiver, public, LINK_DOWN, (IF_INDEX + ".3", Integer(3)))
    await notify(receiver, public, LINK_DOWN, (IF_INDEX + ".4", Integer(4)))
    keys: list[str] = []
    async with asyncio.timeout(5):
        while keys != ["linkDown:3", "linkDown:4"]:
            await asyncio.sleep(0.05)
            keys = await open_keys()
    (opened,) = [a for a in await core.alerts.list(status="open") if a.key == "linkDown:3"]
    assert (opened.target, opened.severity, opened.source) == ("edge-1", Severity.MAJOR, "trap")

    await notify(receiver, public, LINK_UP, (IF_INDEX + ".3", Integer(3)))
    async with asyncio.timeout(5):
        while keys != ["linkDown:4"]:
            await asyncio.sleep(0.05)
            keys = await open_keys()
    (resolved,) = await core.alerts.list(status="resolved", source="trap")
    assert resolved.id == opened.id


# ---- bad input, floods, binding ---------------------------------------------------------------


async def test_malformed_datagrams_are_rejected_and_the_receiver_keeps_working(
    start: Start,
) -> None:
    sink = Collected()
    receiver = await start(sink, users=USERS)
    v2c = await capture(CommunityData("public"), LINK_DOWN, (IF_INDEX + ".3", Integer(3)))
    v3 = await capture(AES_USER, LINK_DOWN, (IF_INDEX + ".3", Integer(3)))
    rng = random.Random(6)
    garbage = [rng.randbytes(rng.randrange(0, 200)) for _ in range(200)]
    garbage += [b"\x30\x03\x02\x01\x03", b"\x30\x82\xff\xff", b"\x00" * 64]
    truncated = [v2c[:n] for n in range(len(v2c))] + [v3[:n] for n in range(len(v3))]
    bad = garbage + truncated
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i, data in enumerate(bad):
            sender.sendto(data, receiver.address)
            if i % 50 == 0:
                await asyncio.sleep(0.01)  # let the receiver drain its socket
        await until(lambda: receiver.counters.received == len(bad))
    finally:
        sender.close()
    assert receiver.counters.rejected == len(bad)
    assert sink.alerts == []
    assert {item["kind"] for item in receiver.recent.items()} == {"rejected"}
    # still working, both paths
    await notify(receiver, CommunityData("public"), COLD_START)
    await notify(receiver, AES_USER, LINK_DOWN, (IF_INDEX + ".3", Integer(3)))
    await until(lambda: len(sink.alerts) == 2)
    assert sorted(sink.keys()) == ["coldStart", "linkDown:3"]


async def test_a_flood_is_dropped_counted_and_summarized_in_one_alert(start: Start) -> None:
    sink = Collected()
    receiver = await start(sink, rate=100, burst=50)
    trap = await capture(CommunityData("public"), LINK_DOWN, (IF_INDEX + ".3", Integer(3)))
    sent = 3000
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(sent):
            sender.sendto(trap, receiver.address)
            if i % 50 == 0:
                await asyncio.sleep(0.005)  # let the receiver drain its socket
        await until(lambda: receiver.counters.received == sent)
    finally:
        sender.close()
    await until(lambda: any(a.key == "flood" for a in sink.alerts))
    await asyncio.sleep(0.6)  # one more flush window
    c = receiver.counters
    accepted = [a for a in sink.alerts if a.key != "flood"]
    floods = [a for a in sink.alerts if a.key == "flood"]
    assert c.dropped >= sent - 500 and c.matched == len(accepted) == sent - c.dropped
    assert len({a.fingerprint for a in floods}) == 1  # one summary alert (bumped per window)
    assert sum(a.details["dropped"] for a in floods) == c.dropped
    assert floods[0].severity is Severity.WARNING and "dropped" in floods[0].summary


async def test_a_port_in_use_gives_advice(start: Start) -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    try:
        receiver = TrapReceiver(
            {"address": "127.0.0.1", "port": taken.getsockname()[1]},
            Collected(),
            lambda address: None,
            rules=TrapRules(),
        )
        with pytest.raises(OpsError, match=r"already in use.*1162"):
            await receiver.start()
        assert not receiver.listening
    finally:
        taken.close()


async def test_a_privileged_port_gives_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() == 0:  # root may bind 162: refuse as the kernel refuses everyone else

        def refuse(self: socket.socket, address: Any) -> None:
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(socket.socket, "bind", refuse)
    receiver = TrapReceiver({"port": 162}, Collected(), lambda address: None, rules=TrapRules())
    with pytest.raises(OpsError, match=r"below 1024 need privilege.*1162.*CAP_NET_BIND_SERVICE"):
        await receiver.start()
    assert not receiver.listening


async def test_ipv6_loopback(start: Start) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    sink = Collected()
    receiver = TrapReceiver({"address": "::1", "port": 0}, sink, lambda a: None, rules=load_rules())
    try:
        await receiver.start()
    except OpsError as exc:
        pytest.skip(f"no IPv6 loopback: {exc}")
    try:
        trap = await capture(CommunityData("public"), COLD_START)
        sender = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sender.sendto(trap, receiver.address)
        sender.close()
        await until(lambda: len(sink.alerts) == 1)
        assert sink.alerts[0].key == "coldStart@::1"
    finally:
        await receiver.stop()
