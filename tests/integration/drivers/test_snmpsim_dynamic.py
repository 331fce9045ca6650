"""A real agent whose values change: snmpsim's writecache, numeric and error modules,
driven by the project's SnmpDriver (the peer the monitoring tests script)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from ipaddress import IPv4Address

import pytest
from support.snmpsim import (
    DynamicAgent,
    DynamicDevice,
    DynOids,
    SnmpSimError,
    running_dynamic_agent,
    start_dynamic_agent,
)

from opsconductor_desktop.domain.results import (
    SnmpAgentError,
    SnmpNoSuchInstance,
    SnmpNoSuchObject,
)
from opsconductor_desktop.drivers.snmp import SnmpDriver

row = DynOids.row


@pytest.fixture(scope="module")
def dyn_agent() -> Iterator[DynamicAgent]:
    agent = start_dynamic_agent()
    try:
        yield agent
    finally:
        agent.stop()


@pytest.fixture
async def dev(dyn_agent: DynamicAgent, snmp: SnmpDriver) -> DynamicDevice:
    """The module's device, every writable value back to the data file's first."""
    await dyn_agent.reset(driver=snmp)
    return dyn_agent.device


async def test_starts_on_loopback_with_the_data_files_values(
    dyn_agent: DynamicAgent, dev: DynamicDevice, snmp: SnmpDriver
) -> None:
    assert IPv4Address(dyn_agent.host).is_loopback
    assert (dyn_agent.host, dyn_agent.port, dyn_agent.community) == (
        dev.host,
        dev.port,
        "dynamic0",
    )
    got = await snmp.get(
        dev.endpoint(),
        [DynOids.SYS_UPTIME, DynOids.SYS_NAME, DynOids.GAUGE, DynOids.COUNTER32],
    )
    assert [(vb.type, vb.value) for vb in got] == [
        ("TimeTicks", 360000),
        ("OctetString", b"dyn-router-0"),
        ("Gauge32", 10),
        ("Counter32", 1000),
    ]


async def test_set_then_get_returns_the_new_value_of_each_type(
    dev: DynamicDevice, snmp: SnmpDriver
) -> None:
    wanted = {
        DynOids.GAUGE: ("Gauge32", 4_000_000_000),
        DynOids.COUNTER32: ("Counter32", 2**32 - 1),
        DynOids.COUNTER64: ("Counter64", 2**64 - 1),
        DynOids.SYS_UPTIME: ("TimeTicks", 42),
        DynOids.INTEGER: ("Integer32", -17),
        DynOids.HR_PROCESSOR_LOAD: ("Integer32", 97),
        DynOids.TEXT: ("OctetString", b"degraded"),
        row(DynOids.IF_OPER_STATUS, 2): ("Integer32", 2),
    }
    echo = await dev.set_values(
        {
            DynOids.GAUGE: 4_000_000_000,  # type from the data file
            DynOids.COUNTER32: ("c", 2**32 - 1),  # net-snmp letter
            DynOids.COUNTER64: ("Counter64", 2**64 - 1),
            DynOids.SYS_UPTIME: ("t", 42),
            DynOids.INTEGER: -17,
            DynOids.HR_PROCESSOR_LOAD: 97,
            DynOids.TEXT: ("s", "degraded"),
            row(DynOids.IF_OPER_STATUS, 2): 2,
        },
        driver=snmp,
    )
    assert {vb.oid: (vb.type, vb.value) for vb in echo} == wanted
    got = await snmp.get(dev.endpoint(), list(wanted))
    assert {vb.oid: (vb.type, vb.value) for vb in got} == wanted
    # The same over SNMPv1 (Counter64 exists only from v2c on; v1 skips it).
    v1 = await snmp.get(dev.endpoint("v1"), [DynOids.GAUGE, DynOids.SYS_UPTIME])
    assert [vb.value for vb in v1] == [4_000_000_000, 42]


async def test_without_a_driver_the_helper_uses_its_own(dev: DynamicDevice) -> None:
    await dev.set_values({DynOids.GAUGE: 55})
    driver = SnmpDriver()
    try:
        (gauge,) = await driver.get(dev.endpoint(), [DynOids.GAUGE])
    finally:
        driver.close()
    assert gauge.value == 55


async def test_a_scripted_counter_gives_rates_wraps_and_a_reboot(
    dev: DynamicDevice, snmp: SnmpDriver
) -> None:
    """What a monitoring test scripts: +X per interval, a wrap past 2^32, a reboot."""
    ep = dev.endpoint()
    oids = [DynOids.SYS_UPTIME, row(DynOids.IF_IN_OCTETS, 2), row(DynOids.IF_HC_IN_OCTETS, 2)]
    await dev.set_values(
        {DynOids.SYS_UPTIME: 1000, row(DynOids.IF_IN_OCTETS, 2): 2**32 - 150_000}, driver=snmp
    )
    samples = [[vb.value for vb in await snmp.get(ep, oids)]]
    for _ in range(3):  # one "interval": 10 s of uptime, 100 kB in, 1 MB in on the HC counter
        await dev.advance(
            {
                DynOids.SYS_UPTIME: 1000,
                row(DynOids.IF_IN_OCTETS, 2): 100_000,
                row(DynOids.IF_HC_IN_OCTETS, 2): 1_000_000,
            },
            driver=snmp,
        )
        samples.append([vb.value for vb in await snmp.get(ep, oids)])
    assert [s[0] for s in samples] == [1000, 2000, 3000, 4000]
    assert [s[1] for s in samples] == [
        2**32 - 150_000,
        2**32 - 50_000,
        50_000,  # wrapped past 2^32 - 1
        150_000,
    ]
    assert [s[2] for s in samples] == [20_000, 1_020_000, 2_020_000, 3_020_000]

    await dev.reboot(uptime=250, driver=snmp)
    after = await snmp.get(ep, [*oids, DynOids.COUNTER32, row(DynOids.IF_HC_OUT_OCTETS, 3)])
    assert [vb.value for vb in after] == [250, 0, 0, 0, 0]
    assert dev.values[DynOids.SYS_UPTIME] == 250


async def test_a_gauge_crosses_a_threshold_and_comes_back(
    dev: DynamicDevice, snmp: SnmpDriver
) -> None:
    seen = []
    for load in (20, 95, 97, 30):
        await dev.set_values({DynOids.HR_PROCESSOR_LOAD: load}, driver=snmp)
        (vb,) = await snmp.get(dev.endpoint(), [DynOids.HR_PROCESSOR_LOAD])
        seen.append(vb.value)
    assert seen == [20, 95, 97, 30]


async def test_walks_of_if_mib_columns_return_three_rows_with_set_values(
    dev: DynamicDevice, snmp: SnmpDriver
) -> None:
    ep = dev.endpoint()
    await dev.set_values(
        {row(DynOids.IF_HC_IN_OCTETS, i): 2**64 - i for i in (1, 2, 3)}
        | {row(DynOids.IF_IN_OCTETS, 3): 7},
        driver=snmp,
    )
    descr = await snmp.walk(ep, DynOids.IF_DESCR)
    assert [(vb.oid, vb.display()) for vb in descr] == [
        (row(DynOids.IF_DESCR, 1), "lo"),
        (row(DynOids.IF_DESCR, 2), "eth0"),
        (row(DynOids.IF_DESCR, 3), "eth1"),
    ]
    hc_in = await snmp.walk(ep, DynOids.IF_HC_IN_OCTETS)
    assert [(vb.oid, vb.type, vb.value) for vb in hc_in] == [
        (row(DynOids.IF_HC_IN_OCTETS, i), "Counter64", 2**64 - i) for i in (1, 2, 3)
    ]
    hc_out = await snmp.walk(ep, DynOids.IF_HC_OUT_OCTETS)
    assert [vb.value for vb in hc_out] == [15_000, 25_000, 35_000]
    in_octets = await snmp.walk(ep, DynOids.IF_IN_OCTETS, max_repetitions=2)
    assert [(vb.type, vb.value) for vb in in_octets] == [
        ("Counter32", 1000),
        ("Counter32", 2000),
        ("Counter32", 7),
    ]
    v1_walk = await snmp.walk(dev.endpoint("v1"), DynOids.IF_IN_OCTETS)  # GETNEXT
    assert [vb.value for vb in v1_walk] == [1000, 2000, 7]
    enterprise = await snmp.walk(ep, "1.3.6.1.4.1.55555")  # through the clock values too
    assert [vb.oid for vb in enterprise][-1] == DynOids.CLOCK_WRAPPING
    assert len(await snmp.walk(ep, "1.3.6.1.2.1")) == 42  # mib-2: GEN_ERR lies before it


async def test_a_missing_oid_is_a_typed_per_varbind_result(
    dev: DynamicDevice, snmp: SnmpDriver
) -> None:
    gauge, missing, no_row = await snmp.get(
        dev.endpoint(), [DynOids.GAUGE, DynOids.MISSING, row(DynOids.IF_HC_IN_OCTETS, 4)]
    )
    assert (gauge.type, gauge.value) == ("Gauge32", 10)
    # snmpsim answers every unknown exact OID with noSuchInstance (never noSuchObject).
    assert (missing.type, missing.exists, missing.value) == ("noSuchInstance", False, None)
    assert no_row.type == "noSuchInstance"
    with pytest.raises(SnmpNoSuchInstance):
        missing.unwrap()
    # SNMPv1 has no exception values: noSuchName, which the driver reports as noSuchObject.
    v1_gauge, v1_missing = await snmp.get(dev.endpoint("v1"), [DynOids.GAUGE, DynOids.MISSING])
    assert v1_gauge.value == 10
    assert v1_missing.type == "noSuchObject"
    with pytest.raises(SnmpNoSuchObject):
        v1_missing.unwrap()


async def test_odd_values_and_refusals(dev: DynamicDevice, snmp: SnmpDriver) -> None:
    (text,) = await snmp.get(dev.endpoint(), [DynOids.NOT_A_NUMBER])
    assert (text.type, text.value) == ("OctetString", b"n/a")
    with pytest.raises(SnmpAgentError) as caught:
        await snmp.get(dev.endpoint(), [DynOids.GAUGE, DynOids.GEN_ERR])
    assert (caught.value.status, caught.value.oid) == ("genErr", DynOids.GEN_ERR)


async def test_refused_sets_raise_and_change_nothing(dev: DynamicDevice, snmp: SnmpDriver) -> None:
    with pytest.raises(SnmpSimError, match="is a Counter32"):  # caught before sending
        await dev.set_values({DynOids.COUNTER32: ("Gauge32", 5)}, driver=snmp)
    with pytest.raises(SnmpSimError, match="not writable"):
        await dev.set_values({row(DynOids.IF_DESCR, 1): "eth9"}, driver=snmp)
    # Sent anyway, snmpsim refuses with a noSuchInstance echo and error-status 0.
    with pytest.raises(SnmpSimError, match="did not store"):
        await dev.set_values({row(DynOids.IF_DESCR, 1): ("s", "eth9")}, driver=snmp)
    echo = await snmp.set(dev.endpoint(), [(DynOids.COUNTER32, "Gauge32", 5)])
    assert [vb.type for vb in echo] == ["noSuchInstance"]
    descr, counter = await snmp.get(dev.endpoint(), [row(DynOids.IF_DESCR, 1), DynOids.COUNTER32])
    assert (descr.value, counter.value) == (b"lo", 1000)


async def test_clock_driven_values_follow_time(dev: DynamicDevice, snmp: SnmpDriver) -> None:
    oids = [DynOids.CLOCK_COUNTER32, DynOids.CLOCK_TICKS, DynOids.CLOCK_WRAPPING]
    t0 = time.monotonic()
    first = await snmp.get(dev.endpoint(), oids)
    t1 = time.monotonic()
    await asyncio.sleep(0.3)
    t2 = time.monotonic()
    second = await snmp.get(dev.endpoint(), oids)
    t3 = time.monotonic()
    counter = second[0].value - first[0].value  # type: ignore[operator]
    ticks = second[1].value - first[1].value  # type: ignore[operator]
    assert 1000 * (t2 - t1) - 2 <= counter <= 1000 * (t3 - t0) + 2
    assert 100 * (t2 - t1) - 2 <= ticks <= 100 * (t3 - t0) + 2
    assert [vb.type for vb in second] == ["Counter32", "TimeTicks", "Counter32"]
    assert 0 <= second[2].value < 2**32  # type: ignore[operator]


async def test_devices_of_one_agent_keep_their_own_values(snmp: SnmpDriver) -> None:
    with running_dynamic_agent(2, distinct_hosts=True) as agent:
        one, two = agent.devices
        assert (one.community, two.community) == ("dynamic0", "dynamic1")
        assert one.host != two.host
        assert all(IPv4Address(d.host).is_loopback for d in agent.devices)
        await one.set_values({DynOids.COUNTER64: 111, DynOids.SYS_UPTIME: 5}, driver=snmp)
        await two.set_values({DynOids.COUNTER64: 222}, driver=snmp)
        a = await snmp.get(
            one.endpoint(), [DynOids.COUNTER64, DynOids.SYS_UPTIME, DynOids.SYS_NAME]
        )
        b = await snmp.get(
            two.endpoint(), [DynOids.COUNTER64, DynOids.SYS_UPTIME, DynOids.SYS_NAME]
        )
        assert [vb.value for vb in a] == [111, 5, b"dyn-router-0"]
        assert [vb.value for vb in b] == [222, 360000, b"dyn-router-1"]
    assert agent.sim.process.poll() is not None
