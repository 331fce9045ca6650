"""Benchmark: a 5-OID SNMP GET sweep of 1,000 agents — SnmpDriver vs net-snmp's snmpget.

Peer set-up (``peers.py``): ONE net-snmp ``snmpd`` (Debian ``snmpd``) on ``udp:PORT``
answers v2c community ``public`` on every loopback address, so 1,000 targets are the
distinct addresses 127.1.x.y at one port (≈ 0.1 ms of agent CPU per request).

* OpsConductor: one ``SnmpDriver`` (its default bound: 64 requests in flight), fed by 64
  worker tasks — a first sweep (every target new to the driver) and repeat sweeps. Wall
  time, GETs/s, client CPU per GET (``time.process_time``: the agent is another
  process), and the event-loop lag (``looplag``) during the sweeps, next to the same
  probe in an idle process (the machine's share of the lag).
* Also: the same sweep as 1,000 tasks started at once (``asyncio.gather``), for its lag.
* Peer: ``snmpget -v2c -c public -t 1 -r 1 ADDR:PORT OID×5`` per target, 16 at a time.

Goals (printed as PASS/MISS, never asserted): ≤ 1 ms client CPU per 5-OID GET (≥ 1,000
GETs/s on one core), first sweep no slower than 1.5× a repeat sweep, loop lag p99 < 20 ms.

Run: ``make bench`` or ``.venv/bin/pytest -q -s tests/bench/bench_snmp_sweep.py
-p no:cacheprovider --override-ini addopts=``. Sizes: OPSC_BENCH_SNMP_TARGETS (1000),
OPSC_BENCH_SNMP_REPEATS (5), OPSC_BENCH_SNMPGET_PARALLEL (16).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from os import environ

import pytest
from looplag import IdleProcessLag, LagStats, LoopLag, percentile
from peers import SNMPD_SYSNAME, PeerUnavailable, SnmpdAgent, start_snmpd

from opsconductor_desktop.domain.results import SnmpEndpoint, VarBind
from opsconductor_desktop.drivers.snmp import SnmpDriver

N = int(environ.get("OPSC_BENCH_SNMP_TARGETS", "1000"))
REPEATS = int(environ.get("OPSC_BENCH_SNMP_REPEATS", "5"))
PARALLEL = int(environ.get("OPSC_BENCH_SNMPGET_PARALLEL", "16"))
WORKERS = 64
# sysDescr, sysObjectID, sysUpTime, sysName, sysLocation
OIDS = [f"1.3.6.1.2.1.1.{n}.0" for n in (1, 2, 3, 5, 6)]
GOAL_CPU_PER_GET = 0.001
GOAL_FIRST_VS_REPEAT = 1.5
GOAL_LAG_P99 = 0.020


def _address(i: int) -> str:
    return f"127.1.{i // 250}.{i % 250 + 1}"


@pytest.fixture(scope="module")
def agent() -> Iterator[SnmpdAgent]:
    try:
        started = time.perf_counter()
        agent = start_snmpd()
    except PeerUnavailable as exc:
        pytest.skip(f"net-snmp peer unavailable: {exc}")
    print(f"\nsnmpd: udp:{agent.port}, up in {time.perf_counter() - started:.1f} s")
    try:
        yield agent
    finally:
        agent.stop()


@dataclass
class Sweep:
    wall: float
    cpu: float
    lag: list[float]  # the probe's delays, seconds
    control: LagStats | None
    answered: int

    @property
    def rate(self) -> float:
        return N / self.wall


def _complete(rows: list[VarBind] | BaseException) -> bool:
    return (
        isinstance(rows, list)
        and len(rows) == len(OIDS)
        and all(vb.exists for vb in rows)
        and rows[3].display() == SNMPD_SYSNAME
    )


async def _sweep(driver: SnmpDriver, endpoints: list[SnmpEndpoint], *, at_once: bool) -> Sweep:
    """GET every endpoint: 64 workers pulling targets, or every target as its own task."""
    results: list[list[VarBind] | BaseException] = []

    async def one(ep: SnmpEndpoint) -> list[VarBind] | BaseException:
        try:
            return await driver.get(ep, OIDS)
        except Exception as exc:
            return exc

    async def worker(queue: Iterator[SnmpEndpoint]) -> None:
        for ep in queue:
            results.append(await one(ep))

    async with IdleProcessLag() as control, LoopLag() as lag:
        wall, cpu = time.perf_counter(), time.process_time()
        if at_once:
            results = list(await asyncio.gather(*(one(ep) for ep in endpoints)))
        else:
            queue = iter(endpoints)
            await asyncio.gather(*(worker(queue) for _ in range(WORKERS)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    answered = sum(_complete(r) for r in results)
    if answered != len(endpoints):
        bad = next(r for r in results if not _complete(r))
        print(f"  {len(endpoints) - answered} incomplete, e.g. {bad!r}"[:300])
    return Sweep(wall, cpu, lag.delays, control.stats, answered)


def _snmpget_sweep(agent: SnmpdAgent) -> tuple[float, int]:
    """net-snmp's snmpget, one process per target, PARALLEL at a time: (wall, answered)."""

    def one(i: int) -> bool:
        argv = [agent.snmpget, "-v2c", "-c", agent.community, "-t", "1", "-r", "1"]
        done = subprocess.run(
            [*argv, f"{_address(i)}:{agent.port}", *OIDS],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.returncode == 0 and SNMPD_SYSNAME in done.stdout

    started = time.perf_counter()
    with ThreadPoolExecutor(PARALLEL) as pool:
        answered = sum(pool.map(one, range(N)))
    return time.perf_counter() - started, answered


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _lag(delays: list[float]) -> str:
    p50, p99 = percentile(delays, 0.5) * 1000, percentile(delays, 0.99) * 1000
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(delays, default=0) * 1000:.1f} ms"


async def test_snmp_sweep_vs_snmpget(agent: SnmpdAgent) -> None:
    endpoints = [
        SnmpEndpoint(_address(i), agent.port, community=agent.community, timeout=2, retries=1)
        for i in range(N)
    ]
    driver = SnmpDriver()
    try:
        started = time.perf_counter()
        warm = await driver.get(SnmpEndpoint("127.0.0.1", agent.port, community="public"), OIDS)
        assert _complete(warm)
        warmup = time.perf_counter() - started
        first = await _sweep(driver, endpoints, at_once=False)
        repeats = [await _sweep(driver, endpoints, at_once=False) for _ in range(REPEATS)]
        burst = await _sweep(driver, endpoints, at_once=True)
    finally:
        driver.close()
    peer_wall, peer_answered = await asyncio.to_thread(_snmpget_sweep, agent)

    repeat_wall = statistics.median(s.wall for s in repeats)
    repeat_cpu = statistics.median(s.cpu for s in repeats)
    cpu_per_get = repeat_cpu / N
    all_lag = first.lag + [d for s in repeats for d in s.lag]
    p99 = percentile(all_lag, 0.99)
    controls = [s.control.p99 for s in [first, *repeats] if s.control]
    control = f"{statistics.median(controls) * 1000:.1f} ms" if controls else "n/a"
    first_ratio = first.wall / repeat_wall
    peer_rate = N / peer_wall
    print(
        f"\nSNMP sweep, {N} agents × {len(OIDS)} OIDs (v2c GET), {WORKERS} workers, driver "
        f"bound 64 in flight (engine start-up and first GET: {warmup:.2f} s, not counted):\n"
        f"  first sweep   : {first.wall:5.2f} s = {first.rate:6.0f} GETs/s, client CPU "
        f"{first.cpu / N * 1000:.3f} ms/GET, {first.answered}/{N} answered\n"
        f"  repeat sweeps : {repeat_wall:5.2f} s = {N / repeat_wall:6.0f} GETs/s, client CPU "
        f"{cpu_per_get * 1000:.3f} ms/GET (≈ {1 / cpu_per_get:,.0f} GETs/s per core), "
        f"median of {REPEATS}, {min(s.answered for s in repeats)}/{N} answered (worst)\n"
        f"  snmpget ×{PARALLEL:<2}   : {peer_wall:5.2f} s = {peer_rate:6.0f} GETs/s, "
        f"{peer_answered}/{N} answered\n"
        f"  ratio SnmpDriver/snmpget: {N / repeat_wall / peer_rate:.1f}x GETs/s\n"
        f"  client CPU per GET {cpu_per_get * 1000:.3f} ms — goal ≤ 1 ms: "
        f"{_verdict(cpu_per_get <= GOAL_CPU_PER_GET)}\n"
        f"  first/repeat wall {first_ratio:.2f} (CPU {first.cpu / repeat_cpu:.2f}) — goal ≤ "
        f"{GOAL_FIRST_VS_REPEAT}: {_verdict(first_ratio <= GOAL_FIRST_VS_REPEAT)}\n"
        f"  loop lag over all sweeps: {_lag(all_lag)} ({len(all_lag)} samples) — goal p99 < "
        f"{GOAL_LAG_P99 * 1000:g} ms: {_verdict(p99 < GOAL_LAG_P99)}\n"
        f"    (an idle process meanwhile: p99 {control}; {N} tasks started at once instead "
        f"of {WORKERS} workers: {burst.wall:.2f} s, lag {_lag(burst.lag)})"
    )
    assert first.answered == N
    assert all(s.answered == N for s in repeats)
