"""One monitor check of one target through the one driver of its protocol.

A check never raises for what a device does: a timeout, an agent answering garbage, an OID
missing, a command that prints no number — each becomes part of the ``CheckResult`` (its
``error``), so the per-target error state is clear and nothing else is affected. Counters
become rates here (``domain.metrics``: wraps, reboots by sysUpTime, resets, clock jumps);
a reading that gives no rate yet (the first one, a reboot) stores nothing rather than a
wrong number.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.jobs import render
from opsconductor_desktop.domain.metrics import MetricType, NoRate, RateCalculator, Reading
from opsconductor_desktop.domain.monitors import (
    Monitor,
    MonitorKind,
    ProbeMethod,
    SnmpMetric,
    SshMetric,
)
from opsconductor_desktop.domain.results import VarBind
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.drivers import icmp, tcp
from opsconductor_desktop.drivers.snmp import SnmpDriver
from opsconductor_desktop.drivers.ssh import SshDriver
from opsconductor_desktop.runtime.steps import TargetWork

log = logging.getLogger(__name__)

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
MAX_WALK_ROWS = 10_000  # rows of one walked column per check
_QUIET = {NoRate.FIRST_SAMPLE}  # reasons that are normal, not problems worth showing


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one check of one target produced."""

    monitor: str
    target: str
    target_id: Any
    at: datetime
    ok: bool  # the device answered (SNMP/SSH) or is reachable (reachability)
    duration_ms: float
    samples: tuple[tuple[str, float], ...] = ()  # (series, stored value)
    error: str = ""  # why not ok, or which metrics are missing when partly ok

    @property
    def reachable(self) -> bool:
        return self.ok


def _number(vb: VarBind) -> float | int | None:
    if isinstance(vb.value, bool):
        return None
    if isinstance(vb.value, int):
        return vb.value
    if isinstance(vb.value, bytes):
        try:
            return float(vb.value.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            return None
    return None


class Poller:
    """Runs checks; keeps the counter baselines (bounded) between them."""

    def __init__(
        self,
        snmp: SnmpDriver | None,
        ssh: SshDriver | None,
        *,
        rates: RateCalculator | None = None,
        clock: Any = utcnow,
    ) -> None:
        self.snmp = snmp
        self.ssh = ssh
        self.rates = rates or RateCalculator()
        self.clock = clock

    async def check(self, monitor: Monitor, work: TargetWork) -> CheckResult:
        """Run ``monitor`` on one target with its timeout; never raises but cancellation."""
        at = self.clock()
        started = time.monotonic()
        base = CheckResult(monitor.name, work.name, work.target_id, at, False, 0.0)
        try:
            if work.problem and monitor.kind is not MonitorKind.REACHABILITY:
                return replace(base, error=work.problem)
            async with asyncio.timeout(monitor.timeout * (monitor.retries + 1) + 5.0):
                if monitor.kind is MonitorKind.REACHABILITY:
                    result = await self._reachability(monitor, work, base)
                elif monitor.kind is MonitorKind.SNMP:
                    result = await self._snmp(monitor, work, base)
                else:
                    result = await self._ssh(monitor, work, base)
        except TimeoutError:
            result = replace(base, error=f"timed out after {monitor.timeout:g} s")
        except OpsError as exc:
            result = replace(base, error=str(exc))
        except Exception as exc:
            log.exception("monitor %s on %s failed unexpectedly", monitor.name, work.name)
            result = replace(base, error=f"internal error ({type(exc).__name__}); see the log")
        return replace(result, duration_ms=(time.monotonic() - started) * 1000)

    def forget(self, target_id: Any, monitor: str) -> None:
        """Counter baselines are kept per (target, monitor, series); drop a whole check."""
        self.rates.forget_prefix((target_id, monitor))

    # ---- reachability -------------------------------------------------------------------

    async def _reachability(
        self, monitor: Monitor, work: TargetWork, base: CheckResult
    ) -> CheckResult:
        error = ""
        for _attempt in range(monitor.retries + 1):
            if monitor.method is ProbeMethod.TCP and monitor.port:
                check = await tcp.tcp_check(work.address, monitor.port, timeout=monitor.timeout)
                if check.open and check.latency_ms is not None:
                    return replace(base, ok=True, samples=(("tcp_connect_ms", check.latency_ms),))
                error = f"port {monitor.port}: {check.error or 'closed'}"
            else:
                ping = await icmp.ping(
                    work.address,
                    timeout=monitor.timeout,
                    method="icmp" if monitor.method is ProbeMethod.ICMP else "auto",
                )
                if ping.reachable:
                    samples = (("rtt_ms", ping.rtt_ms),) if ping.rtt_ms is not None else ()
                    return replace(base, ok=True, samples=samples)
                error = f"{ping.method}: {ping.error or 'no answer'}"
        return replace(base, error=error)

    # ---- SNMP ---------------------------------------------------------------------------

    async def _snmp(self, monitor: Monitor, work: TargetWork, base: CheckResult) -> CheckResult:
        if self.snmp is None or work.snmp is None:
            return replace(base, error=f"{work.name} has no SNMP profile (version and credential)")
        ep = replace(work.snmp, timeout=monitor.timeout, retries=monitor.retries)
        metrics = [m for m in monitor.metrics if isinstance(m, SnmpMetric)]
        scalars = [m for m in metrics if not m.walk]
        counters = any(m.type is MetricType.COUNTER for m in metrics)
        oids = ([SYS_UPTIME] if counters else []) + [m.oid for m in scalars]
        answers = await self.snmp.get(ep, oids) if oids else []
        uptime: int | None = None
        if counters and answers:
            up = answers.pop(0)
            uptime = up.value if up.type == "TimeTicks" and isinstance(up.value, int) else None
        at = self.clock()
        samples: list[tuple[str, float]] = []
        notes: list[str] = []
        for metric, vb in zip(scalars, answers, strict=True):
            self._derive(base, metric, metric.series(), vb, at, uptime, samples, notes)
        for metric in (m for m in metrics if m.walk):
            rows = await self.snmp.walk(ep, metric.oid, max_varbinds=MAX_WALK_ROWS)
            if not rows:
                notes.append(f"{metric.name}: no rows under {metric.oid}")
            for vb in rows:
                index = metric.index_of(vb.oid)
                if index:
                    self._derive(base, metric, metric.series(index), vb, at, uptime, samples, notes)
        return replace(base, ok=True, samples=tuple(samples), error="; ".join(notes))

    def _derive(
        self,
        base: CheckResult,
        metric: SnmpMetric | SshMetric,
        series: str,
        vb: VarBind | float | None,
        at: datetime,
        uptime: int | None,
        samples: list[tuple[str, float]],
        notes: list[str],
    ) -> None:
        if isinstance(vb, VarBind):
            if not vb.exists:
                notes.append(f"{series}: {vb.type} ({vb.oid})")
                return
            raw = _number(vb)
            bits = metric.bits if isinstance(metric, SnmpMetric) else None
            bits = bits or (64 if vb.type == "Counter64" else 32)
        else:
            raw, bits = vb, 64
        if raw is None:
            notes.append(f"{series}: not a number")
            return
        key: Hashable = (base.target_id, base.monitor, series)
        result = self.rates.update(key, metric.type, Reading(raw, at, uptime), bits=bits)
        if result.value is not None:
            samples.append((series, result.value * metric.scale))
        elif result.reason is not None and result.reason not in _QUIET:
            notes.append(f"{series}: {result.reason.value}")

    # ---- SSH ----------------------------------------------------------------------------

    async def _ssh(self, monitor: Monitor, work: TargetWork, base: CheckResult) -> CheckResult:
        if self.ssh is None or work.ssh is None:
            return replace(base, error=f"{work.name} has no SSH profile (username and credential)")
        samples: list[tuple[str, float]] = []
        notes: list[str] = []
        session = await self.ssh.connect(work.ssh)
        try:
            for metric in (m for m in monitor.metrics if isinstance(m, SshMetric)):
                command = render(metric.command, work.fields, work.vars)
                result = await session.run(command, timeout=monitor.timeout, max_output=1 << 16)
                if result.timed_out:
                    notes.append(f"{metric.name}: timed out after {monitor.timeout:g} s")
                    continue
                value = metric.extract(result.stdout.decode("utf-8", "replace"))
                if value is None:
                    notes.append(f"{metric.name}: no number matching {metric.regex!r}")
                    continue
                at = self.clock()
                self._derive(base, metric, metric.series(), value, at, None, samples, notes)
        finally:
            await asyncio.shield(session.close())
        return replace(base, ok=True, samples=tuple(samples), error="; ".join(notes))
