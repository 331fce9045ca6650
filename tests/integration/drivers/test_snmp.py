"""SnmpDriver against a real agent (snmpsim on loopback): v1, v2c, v3, errors, limits."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from support.snmpsim import SnmpSimAgent, free_udp_port

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.results import (
    SnmpAgentError,
    SnmpAuthError,
    SnmpEndpoint,
    SnmpNoSuchInstance,
    SnmpNoSuchObject,
    SnmpTimeout,
    SnmpTooBig,
)
from opsconductor_desktop.drivers.snmp import SnmpDriver

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_CONTACT = "1.3.6.1.2.1.1.4.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
IF_TABLE = "1.3.6.1.2.1.2.2"
TOO_BIG = "1.3.6.1.4.1.55555.9.1.0"
LOCKED = "1.3.6.1.4.1.55555.1.5.0"  # the agent answers notWritable to a SET


async def test_v2c_get_returns_typed_values(snmp: SnmpDriver, v2c: SnmpEndpoint) -> None:
    descr, uptime, name = await snmp.get(v2c, [SYS_DESCR, SYS_UPTIME, SYS_NAME])
    assert (descr.oid, descr.type) == (SYS_DESCR, "OctetString")
    assert descr.value == b"OpsConductor test agent (snmpsim) Linux 6.1 x86_64"
    assert (uptime.type, uptime.value) == ("TimeTicks", 123456)
    assert uptime.display() == "0:20:34.56"
    assert name.display() == "lab-router-1"


async def test_v2c_get_types_of_every_kind(snmp: SnmpDriver, v2c: SnmpEndpoint) -> None:
    got = await snmp.get(
        v2c,
        [
            "1.3.6.1.2.1.1.2.0",  # OID
            "1.3.6.1.2.1.2.2.1.5.2",  # Gauge32
            "1.3.6.1.2.1.2.2.1.10.2",  # Counter32
            "1.3.6.1.2.1.31.1.1.1.6.1",  # Counter64
            "1.3.6.1.2.1.4.20.1.1.127.0.0.1",  # IpAddress
            "1.3.6.1.4.1.55555.1.1.0",  # binary octets
            "1.3.6.1.4.1.55555.1.2.0",  # negative Integer32
        ],
    )
    assert [(vb.type, vb.value) for vb in got] == [
        ("ObjectIdentifier", "1.3.6.1.4.1.8072.3.2.10"),
        ("Gauge32", 1_000_000_000),
        ("Counter32", 2007),
        ("Counter64", 18446744073709551001),
        ("IpAddress", "127.0.0.1"),
        ("OctetString", b"\x00\xff\x10\xfe\x80"),
        ("Integer32", -42),
    ]
    assert got[5].display() == "00:ff:10:fe:80"


async def test_missing_objects_are_typed_values_not_errors(
    snmp: SnmpDriver, v2c: SnmpEndpoint
) -> None:
    name, instance, obj = await snmp.get(v2c, [SYS_NAME, "1.3.6.1.2.1.1.5.1", "1.3.6.1.9.9.9.0"])
    assert name.exists
    assert (instance.type, instance.exists, instance.value) == ("noSuchInstance", False, None)
    assert obj.type in ("noSuchObject", "noSuchInstance")
    with pytest.raises(SnmpNoSuchInstance):
        instance.unwrap()
    with pytest.raises((SnmpNoSuchObject, SnmpNoSuchInstance)):
        obj.unwrap()


async def test_v2c_next(snmp: SnmpDriver, v2c: SnmpEndpoint) -> None:
    (after_descr, after_uptime) = await snmp.next(v2c, [SYS_DESCR, SYS_UPTIME])
    assert after_descr.oid == "1.3.6.1.2.1.1.2.0"
    assert after_uptime.oid == SYS_CONTACT


async def test_next_past_the_last_object_is_end_of_mib(snmp: SnmpDriver, v2c: SnmpEndpoint) -> None:
    (end,) = await snmp.next(v2c, ["1.3.6.1.4.1.99999"])
    assert end.type == "endOfMibView"
    assert not end.exists


@pytest.mark.parametrize("repetitions", [25, 1, 7])
async def test_walk_stops_at_the_end_of_the_subtree(
    snmp: SnmpDriver, v2c: SnmpEndpoint, repetitions: int
) -> None:
    rows = await snmp.walk(v2c, IF_TABLE, max_repetitions=repetitions)
    assert len(rows) == 30  # 10 columns x 3 interfaces
    assert all(vb.oid.startswith(IF_TABLE + ".") for vb in rows)
    assert rows[0].oid == "1.3.6.1.2.1.2.2.1.1.1"
    assert rows[-1].oid == "1.3.6.1.2.1.2.2.1.16.3"
    descrs = [vb.display() for vb in rows if vb.oid.startswith("1.3.6.1.2.1.2.2.1.2.")]
    assert descrs == ["lo", "eth0", "eth1"]


async def test_walk_of_a_leaf_returns_the_leaf(snmp: SnmpDriver, v2c: SnmpEndpoint) -> None:
    rows = await snmp.walk(v2c, SYS_NAME)
    assert [(vb.oid, vb.display()) for vb in rows] == [(SYS_NAME, "lab-router-1")]
    assert await snmp.walk(v2c, "1.3.6.1.2.1.99") == []


async def test_walk_limit(snmp: SnmpDriver, v2c: SnmpEndpoint) -> None:
    with pytest.raises(Exception, match="exceeded 5 var-binds"):
        await snmp.walk(v2c, IF_TABLE, max_varbinds=5)


async def test_v2c_set_then_get(snmp: SnmpDriver, v2c: SnmpEndpoint) -> None:
    (echo,) = await snmp.set(v2c, [(SYS_CONTACT, "s", "night-shift@example.net")])
    assert echo.value == b"night-shift@example.net"
    (now,) = await snmp.get(v2c, [SYS_CONTACT])
    assert now.display() == "night-shift@example.net"
    await snmp.set(
        v2c,
        [
            ("1.3.6.1.4.1.55555.1.4.0", "Integer32", 77),
            ("1.3.6.1.4.1.55555.1.3.0", "x", "de:ad:be:ef"),
        ],
    )
    number, octets = await snmp.get(v2c, ["1.3.6.1.4.1.55555.1.4.0", "1.3.6.1.4.1.55555.1.3.0"])
    assert (number.value, octets.value) == (77, b"\xde\xad\xbe\xef")


async def test_set_refused_by_the_agent_names_status_and_oid(
    snmp: SnmpDriver, v2c: SnmpEndpoint
) -> None:
    with pytest.raises(SnmpAgentError) as caught:
        await snmp.set(v2c, [(SYS_CONTACT, "s", "x"), (LOCKED, "s", "unlocked")])
    assert caught.value.status == "notWritable"
    assert caught.value.oid == LOCKED
    (locked,) = await snmp.get(v2c, [LOCKED])
    assert locked.display() == "locked"


async def test_v1_walk_uses_getnext(snmp: SnmpDriver, v1: SnmpEndpoint) -> None:
    rows = await snmp.walk(v1, "1.3.6.1.2.1.1")
    assert [vb.oid.rsplit(".", 2)[-2] for vb in rows] == ["1", "2", "3", "4", "5", "6", "7"]
    assert rows[4].display() == "lab-router-1"


async def test_v1_get_with_a_missing_oid_still_answers_the_others(
    snmp: SnmpDriver, v1: SnmpEndpoint
) -> None:
    descr, missing, name = await snmp.get(v1, [SYS_DESCR, "1.3.6.1.2.1.1.99.0", SYS_NAME])
    assert descr.exists
    assert name.display() == "lab-router-1"
    assert missing.type == "noSuchObject"


@pytest.mark.parametrize(
    "user",
    ["ops-sha-aes", "ops-sha256-aes256", "ops-md5-des", "ops-sha512-auth", "ops-noauth"],
)
async def test_v3_security_levels_and_protocols(
    snmp: SnmpDriver, v3: Callable[..., SnmpEndpoint], user: str
) -> None:
    ep = v3(user)
    (name,) = await snmp.get(ep, [SYS_NAME])
    assert name.display() == "lab-router-1"
    rows = await snmp.walk(ep, IF_TABLE)
    assert len(rows) == 30


async def test_v3_wrong_auth_key_is_an_auth_error_without_the_key(
    snmp: SnmpDriver, v3: Callable[..., SnmpEndpoint]
) -> None:
    started = time.monotonic()
    with pytest.raises(SnmpAuthError) as caught:
        await snmp.get(v3("ops-sha-aes", auth_key="not-the-right-key"), [SYS_NAME])
    assert time.monotonic() - started < 1.0  # a report, not a timeout
    assert "not-the-right-key" not in str(caught.value)
    assert "auth-sha-secret" not in str(caught.value)
    # the right key still works afterwards on the same driver (re-localized)
    (name,) = await snmp.get(v3("ops-sha-aes"), [SYS_NAME])
    assert name.display() == "lab-router-1"


async def test_v3_wrong_privacy_key_and_unknown_user(
    snmp: SnmpDriver, v3: Callable[..., SnmpEndpoint]
) -> None:
    with pytest.raises(SnmpAuthError):
        await snmp.get(v3("ops-sha-aes", priv_key="wrong-privacy-key"), [SYS_NAME])
    with pytest.raises(SnmpAuthError, match="unknown user"):
        await snmp.get(v3("ops-noauth", user="nobody-here"), [SYS_NAME])


async def test_wrong_community_times_out_quickly(
    snmp: SnmpDriver, snmp_agent: SnmpSimAgent
) -> None:
    ep = SnmpEndpoint(
        snmp_agent.host, snmp_agent.port, community="not-public", timeout=0.3, retries=1
    )
    started = time.monotonic()
    with pytest.raises(SnmpTimeout) as caught:
        await snmp.get(ep, [SYS_NAME])
    assert 0.5 < time.monotonic() - started < 1.5
    assert "not-public" not in str(caught.value)


async def test_closed_port_times_out(snmp: SnmpDriver) -> None:
    ep = SnmpEndpoint("127.0.0.1", free_udp_port(), community="public", timeout=0.2, retries=0)
    with pytest.raises(SnmpTimeout, match=r"127\.0\.0\.1"):
        await snmp.get(ep, [SYS_NAME])


@pytest.mark.parametrize(
    "bad", ["SNMPv2-MIB::sysName.0", "1.3..6", "", "abc", "1", "3.1.2", "1.3.6.1.2.1.1.5.0x"]
)
async def test_invalid_oid_is_refused_before_any_io(snmp: SnmpDriver, bad: str) -> None:
    ep = SnmpEndpoint("192.0.2.1", community="public", timeout=5)  # TEST-NET: never sent to
    with pytest.raises(ValidationError, match="invalid OID"):
        await snmp.get(ep, [SYS_NAME, bad])
    with pytest.raises(ValidationError):
        await snmp.walk(ep, bad)
    assert snmp._stack is None  # not even the engine was created


@pytest.mark.parametrize(
    ("type_name", "value"),
    [
        ("i", "12x"),
        ("i", 2**31),
        ("u", -1),
        ("a", "10.0.0.300"),
        ("o", "foo"),
        ("x", "zz"),
        ("q", 1),
        ("s", 3.5),
        ("c", True),
    ],
)
async def test_invalid_set_values_are_refused_before_any_io(
    snmp: SnmpDriver, type_name: str, value: object
) -> None:
    ep = SnmpEndpoint("192.0.2.1", community="public", timeout=5)
    with pytest.raises(ValidationError):
        await snmp.set(ep, [(SYS_CONTACT, type_name, value)])
    assert snmp._stack is None


async def test_too_big_is_split_then_reported_for_the_single_oid(
    snmp: SnmpDriver, v2c: SnmpEndpoint
) -> None:
    with pytest.raises(SnmpTooBig) as caught:
        await snmp.get(v2c, [SYS_DESCR, SYS_NAME, TOO_BIG])
    assert caught.value.oid == TOO_BIG  # only known after splitting the request


async def test_cancelling_the_task_stops_waiting_at_once(snmp: SnmpDriver) -> None:
    silent = SnmpEndpoint("127.0.0.1", free_udp_port(), community="public", timeout=10, retries=3)
    task = asyncio.create_task(snmp.get(silent, [SYS_NAME]))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.1
    assert len(snmp._targets) == 0  # its per-target slot was released


async def test_many_targets_share_one_socket_and_no_per_target_state(
    snmp: SnmpDriver, v2c: SnmpEndpoint
) -> None:
    # 200 concurrent requests: bounded by the semaphores, all answered, nothing left over
    results = await asyncio.gather(*(snmp.get(v2c, [SYS_NAME]) for _ in range(200)))
    assert {r[0].display() for r in results} == {"lab-router-1"}
    assert len(snmp._targets) == 0
    stack = snmp._stack
    assert stack is not None
    # a community is registered once, however many requests used it
    assert len(stack._communities._by_name) == 1


async def test_long_oid_lists_are_sent_in_chunks(snmp: SnmpDriver, v2c: SnmpEndpoint) -> None:
    rows = await snmp.walk(v2c, IF_TABLE)
    driver = SnmpDriver(max_oids_per_request=7)
    try:
        got = await driver.get(v2c, [vb.oid for vb in rows])
    finally:
        driver.close()
    assert got == rows


async def test_hostname_endpoint(snmp: SnmpDriver, snmp_agent: SnmpSimAgent) -> None:
    if socket.gethostbyname("localhost") != "127.0.0.1":
        pytest.skip("localhost does not resolve to 127.0.0.1 here")
    ep = SnmpEndpoint("localhost", snmp_agent.port, community="public", timeout=1)
    (name,) = await snmp.get(ep, [SYS_NAME])
    assert name.display() == "lab-router-1"


async def test_endpoint_repr_hides_secrets(v3: Callable[..., SnmpEndpoint]) -> None:
    ep = v3("ops-sha-aes")
    text = repr(ep)
    assert "auth-sha-secret" not in text
    assert "priv-aes-secret" not in text
    community = SnmpEndpoint("h", community="s3cret-community")
    assert "s3cret-community" not in repr(community)


def test_importing_the_driver_does_not_import_pysnmp() -> None:
    """The GUI must not pay pysnmp's import (~0.26 s) at start-up."""
    code = (
        "import sys, opsconductor_desktop.drivers.snmp as m; m.SnmpDriver(); "
        "sys.exit('pysnmp' in sys.modules or 'pysmi' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
