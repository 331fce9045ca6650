"""Benchmark: the cost of the first SNMP GET to many new targets, versus a repeat sweep.

FIELD-NOTES measured pysnmp's high-level API at 52.9 s for a first sweep of 1,000 new
targets (its per-target configuration grows the engine's tables, and lookups walk them),
5.1 s for the second. ``SnmpDriver`` keeps no per-target configuration; this benchmark
shows the first sweep costs about what a repeat sweep costs.

Peer: one snmpsim process listening on N loopback addresses 127.1.x.y (one UDP port),
serving N+1 communities. Run with ``make bench`` or
``pytest -q -s tests/bench/bench_snmp_first_contact.py -p no:randomly --override-ini addopts=``.
Sizes: OPSC_BENCH_TARGETS (default 1000), OPSC_BENCH_HLAPI_TARGETS (default 300, the
naive comparison; 0 skips it).
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import time
from collections.abc import Iterator

import pytest
from support.snmpsim import SnmpSimAgent, start_snmpsim

from opsconductor_desktop.domain.results import SnmpEndpoint
from opsconductor_desktop.drivers.snmp import SnmpDriver

N = int(os.environ.get("OPSC_BENCH_TARGETS", "1000"))
N_HLAPI = int(os.environ.get("OPSC_BENCH_HLAPI_TARGETS", "300"))
SYS_NAME = "1.3.6.1.2.1.1.5.0"
RECORD = f"{SYS_NAME}|4|bench-agent\n"


def _address(i: int) -> str:
    return f"127.1.{i // 250}.{i % 250 + 1}"


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpSimAgent]:
    data = tmp_path_factory.mktemp("bench-snmp")
    files = []
    for name in ["public", *(f"c{i:04d}" for i in range(N))]:
        path = data / f"{name}.snmprec"
        path.write_text(RECORD)
        files.append(path)
    port = random.randint(20_000, 60_000)
    started = time.monotonic()
    sim = start_snmpsim(
        files, endpoints=[(_address(i), port) for i in range(N)], startup_timeout=180
    )
    print(
        f"\nsnmpsim: {N} addresses, {N + 1} communities, up in {time.monotonic() - started:.1f} s"
    )
    try:
        yield sim
    finally:
        sim.stop()


Sweep = tuple[float, float]  # (wall seconds, client CPU seconds)


async def _sweep(driver: SnmpDriver, endpoints: list[SnmpEndpoint]) -> Sweep:
    wall, cpu = time.perf_counter(), time.process_time()
    results = await asyncio.gather(*(driver.get(ep, [SYS_NAME]) for ep in endpoints))
    elapsed = time.perf_counter() - wall, time.process_time() - cpu
    assert all(r[0].display() == "bench-agent" for r in results)
    return elapsed


def _report(label: str, n: int, first: Sweep, second: Sweep) -> None:
    """Wall time includes the simulator (~2 ms CPU per request on the same 2 cores);
    client CPU (this process only) is the figure that shows per-target overhead."""
    print(
        f"{label:<42} first: wall {first[0]:6.2f} s, client CPU {first[1] / n * 1000:5.2f} "
        f"ms/target | repeat: wall {second[0]:6.2f} s, client CPU "
        f"{second[1] / n * 1000:5.2f} ms/target | CPU ratio {first[1] / second[1]:4.2f}"
    )


async def test_driver_first_contact_same_community(agent: SnmpSimAgent) -> None:
    endpoints = [
        SnmpEndpoint(_address(i), agent.port, community="public", timeout=3, retries=2)
        for i in range(N)
    ]
    driver = SnmpDriver()
    try:
        await driver.get(SnmpEndpoint("127.1.0.1", agent.port, community="public"), [SYS_NAME])
        first = await _sweep(driver, endpoints)
        second = await _sweep(driver, endpoints)
    finally:
        driver.close()
    _report(f"SnmpDriver, {N} targets, one community", N, first, second)
    assert first[1] < 2 * second[1] + 0.5, "first contact must not cost much more than a repeat"


async def test_driver_first_contact_distinct_communities(agent: SnmpSimAgent) -> None:
    endpoints = [
        SnmpEndpoint(_address(i), agent.port, community=f"c{i:04d}", timeout=3, retries=2)
        for i in range(N)
    ]
    driver = SnmpDriver()
    try:
        await driver.get(SnmpEndpoint("127.1.0.1", agent.port, community="public"), [SYS_NAME])
        first = await _sweep(driver, endpoints)
        second = await _sweep(driver, endpoints)
    finally:
        driver.close()
    _report(f"SnmpDriver, {N} targets, {N} communities", N, first, second)
    assert first[1] < 2 * second[1] + 0.5


@pytest.mark.skipif(N_HLAPI == 0, reason="OPSC_BENCH_HLAPI_TARGETS=0")
async def test_naive_hlapi_for_comparison(agent: SnmpSimAgent) -> None:
    """pysnmp's documented usage: a new transport target (and community) per device."""
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        get_cmd,
    )

    n = min(N_HLAPI, N)
    engine = SnmpEngine()
    sem = asyncio.Semaphore(64)

    async def one(i: int) -> None:
        async with sem:
            target = await UdpTransportTarget.create(
                (_address(i), agent.port), timeout=3, retries=2
            )
            error, status, _, binds = await get_cmd(
                engine,
                CommunityData(f"c{i:04d}"),
                target,
                ContextData(),
                ObjectType(ObjectIdentity(SYS_NAME)),
                lookupMib=False,
            )
            assert error is None
            assert not status
            assert str(binds[0][1]) == "bench-agent"

    async def sweep() -> Sweep:
        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - wall, time.process_time() - cpu

    first = await sweep()
    second = await sweep()
    engine.close_dispatcher()
    _report(f"naive hlapi, {n} targets, {n} communities", n, first, second)


def test_v3_new_engine_cost() -> None:
    """SNMPv3: the USM keeps one localized key row per remote engine (the protocol needs
    it). pysnmp's user lookup walks the whole table after each new row; the driver's
    ``_Usm`` checks one row. Measured without a network: clone + lookup for N engines.
    (snmpsim cannot cheaply host 1,000 distinct engine IDs.)"""
    from pysnmp.entity import config
    from pysnmp.entity.engine import SnmpEngine
    from pysnmp.proto import rfc1902
    from pysnmp.proto.secmod.rfc3414.service import SnmpUSMSecurityModel
    from pysnmp.smi.error import NoSuchInstanceError

    from opsconductor_desktop.drivers.snmp_stack import _Usm

    def new_engines(model: type, n: int) -> float:
        engine = SnmpEngine()
        usm = model()
        engine.security_models[3] = usm
        config.add_v3_user(
            engine,
            b"ops",
            config.USM_AUTH_HMAC96_SHA,
            "auth-key-1",
            config.USM_PRIV_CFB128_AES,
            "priv-key-1",
        )
        lookup = usm._SnmpUSMSecurityModel__sec2usr
        clone = usm._SnmpUSMSecurityModel__clone_user_info
        started = time.perf_counter()
        for i in range(n):
            remote = rfc1902.OctetString(hexValue=f"80001f8880{i:016x}")
            try:
                lookup(engine, b"ops", remote)
            except NoSuchInstanceError:
                clone(engine, remote, lookup(engine, b"ops"))
            lookup(engine, b"ops", remote)
        return time.perf_counter() - started

    for n in (250, N):
        ours = new_engines(_Usm, n)
        gc.collect()
        stock = new_engines(SnmpUSMSecurityModel, n)
        gc.collect()
        print(
            f"v3, {n:5d} new engines: pysnmp USM {stock:6.2f} s ({stock / n * 1000:5.2f} "
            f"ms/engine) | driver USM {ours:6.2f} s ({ours / n * 1000:5.2f} ms/engine)"
        )
    assert ours < stock
