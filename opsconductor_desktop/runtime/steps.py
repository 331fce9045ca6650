"""Running one job step on one target through the one driver of its protocol.

Every outcome — success, failed expectation, device error, timeout — becomes a
``StepOutcome``; only cancellation propagates (after the SSH channel is closed by the
driver). Unexpected exceptions are logged with their traceback and reported as the
step's own error, so one target's surprise never ends the run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from opsconductor_desktop.domain.errors import OpsError
from opsconductor_desktop.domain.jobs import RunStatus, Step, StepType, first_number, render
from opsconductor_desktop.domain.results import SnmpEndpoint, SshEndpoint, SshResult, VarBind
from opsconductor_desktop.drivers import icmp, tcp
from opsconductor_desktop.drivers.snmp import SnmpDriver
from opsconductor_desktop.drivers.ssh import SshDriver, SshSession

log = logging.getLogger(__name__)
MiB = 1 << 20


@dataclass(frozen=True, slots=True)
class TargetWork:
    """Everything the executor needs to know of one target (resolved by the services)."""

    target_id: Any
    name: str
    address: str
    fields: dict[str, Any]  # template values: name, address, kind, vendor, model, site, ...
    vars: dict[str, Any]  # effective variables
    snmp: SnmpEndpoint | None = None
    ssh: SshEndpoint | None = None
    problem: str | None = None  # e.g. "no credential": every step of this target fails


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """The result of one step; what ``step_results`` stores."""

    status: RunStatus
    duration_ms: float
    exit_status: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def last_line(self) -> str:
        """The last non-empty output line (the live view shows it)."""
        for chunk in (self.stdout, self.stderr):
            lines = [ln for ln in chunk.decode("utf-8", "replace").splitlines() if ln.strip()]
            if lines:
                return lines[-1][:200]
        return self.error or ""


class TargetContext:
    """Per-target state across a run's steps: one SSH session reused by every ssh step."""

    def __init__(self, work: TargetWork, ssh: SshDriver, snmp: SnmpDriver) -> None:
        self.work = work
        self._ssh_driver = ssh
        self._snmp = snmp
        self._session: SshSession | None = None
        self.host_key_reported = False

    async def session(self) -> SshSession:
        if self.work.ssh is None:
            raise OpsError(f"{self.work.name} has no SSH profile (username and credential)")
        if self._session is None or not self._session.is_open:
            self._session = await self._ssh_driver.connect(self.work.ssh)
        return self._session

    def snmp_endpoint(self, timeout: float) -> SnmpEndpoint:
        if self.work.snmp is None:
            raise OpsError(f"{self.work.name} has no SNMP profile (version and credential)")
        per_try = max(0.2, min(self.work.snmp.timeout, timeout / (self.work.snmp.retries + 1)))
        return replace(self.work.snmp, timeout=per_try)

    async def close(self) -> None:
        if self._session is not None:
            await asyncio.shield(self._session.close())
            self._session = None


def _varbind_lines(rows: list[VarBind]) -> str:
    return "\n".join(f"{vb.oid} = {vb.type}: {vb.display()}" for vb in rows)


def _varbind_data(rows: list[VarBind]) -> list[dict[str, Any]]:
    return [{"oid": vb.oid, "type": vb.type, "value": vb.display()} for vb in rows]


def _numeric(rows: list[VarBind]) -> float | None:
    for vb in rows:
        if isinstance(vb.value, int):
            return float(vb.value)
        if isinstance(vb.value, bytes):
            return first_number(vb.display())
    return None


async def _ssh(ctx: TargetContext, step: Step) -> StepOutcome:
    command = render(str(step.params["command"]), ctx.work.fields, ctx.work.vars)
    session = await ctx.session()
    started = time.monotonic()
    result: SshResult = await session.run(
        command, timeout=step.timeout, max_output=int(step.params.get("max_output", MiB))
    )
    text = result.stdout.decode("utf-8", "replace")
    problems: list[str] = []
    if result.timed_out:
        problems.append(f"timed out after {step.timeout:g} s (channel closed)")
    elif step.expect.exit_status is not None and result.exit_status != step.expect.exit_status:
        problems.append(f"exit status {result.exit_status}")
    for reason in (step.expect.check_text(text), step.expect.check_value(first_number(text))):
        if reason:
            problems.append(reason)
    data: dict[str, Any] = {"command": command, "captured": step.captured(text)}
    if result.new_host_key_fingerprint and not ctx.host_key_reported:
        data["new_host_key"] = result.new_host_key_fingerprint  # trusted on first use: say so once
        ctx.host_key_reported = True
    return StepOutcome(
        status=RunStatus.FAILED if problems else RunStatus.SUCCEEDED,
        duration_ms=(time.monotonic() - started) * 1000,
        exit_status=result.exit_status,
        stdout=result.stdout,
        stderr=result.stderr,
        stdout_truncated=result.stdout_truncated,
        stderr_truncated=result.stderr_truncated,
        data=data,
        error="; ".join(problems) or None,
    )


async def _snmp(ctx: TargetContext, step: Step, driver: SnmpDriver) -> StepOutcome:
    ep = ctx.snmp_endpoint(step.timeout)
    started = time.monotonic()
    if step.type is StepType.SNMP_GET:
        rows = await driver.get(ep, list(step.params["oids"]))
    elif step.type is StepType.SNMP_WALK:
        rows = await driver.walk(
            ep,
            str(step.params["oid"]),
            max_repetitions=int(step.params.get("max_repetitions", 25)),
            max_varbinds=int(step.params.get("max_varbinds", 100_000)),
        )
    else:
        value = step.params["value"]
        if isinstance(value, str):
            value = render(value, ctx.work.fields, ctx.work.vars)
        rows = await driver.set(
            ep, [(str(step.params["oid"]), str(step.params["value_type"]), value)]
        )
    text = _varbind_lines(rows)
    problems = [f"{vb.oid}: {vb.type}" for vb in rows if not vb.exists]
    for reason in (step.expect.check_text(text), step.expect.check_value(_numeric(rows))):
        if reason:
            problems.append(reason)
    return StepOutcome(
        status=RunStatus.FAILED if problems else RunStatus.SUCCEEDED,
        duration_ms=(time.monotonic() - started) * 1000,
        stdout=text.encode(),
        data={"varbinds": _varbind_data(rows), "captured": step.captured(text)},
        error="; ".join(problems) or None,
    )


async def _reachability(ctx: TargetContext, step: Step) -> StepOutcome:
    started = time.monotonic()
    if step.type is StepType.PING:
        ping = await icmp.ping(
            ctx.work.address, count=int(step.params.get("count", 1)), timeout=step.timeout
        )
        ok, value = ping.reachable, ping.rtt_ms
        line = (
            f"{ping.host} reachable via {ping.method}, rtt {ping.rtt_ms:.2f} ms"
            if ping.reachable and ping.rtt_ms is not None
            else f"{ping.host} unreachable ({ping.method}): {ping.error or 'no answer'}"
        )
        data: dict[str, Any] = {"rtt_ms": ping.rtt_ms, "method": ping.method}
    else:
        port = int(step.params["port"])
        check = await tcp.tcp_check(ctx.work.address, port, timeout=step.timeout)
        ok, value = check.open, check.latency_ms
        line = (
            f"{check.host}:{port} open, {check.latency_ms:.2f} ms"
            if check.open and check.latency_ms is not None
            else f"{check.host}:{port} closed: {check.error or 'refused'}"
        )
        data = {"latency_ms": check.latency_ms, "port": port}
    problems = [] if ok else [line]
    if ok and (reason := step.expect.check_value(value)):
        problems.append(reason)
    return StepOutcome(
        status=RunStatus.FAILED if problems else RunStatus.SUCCEEDED,
        duration_ms=(time.monotonic() - started) * 1000,
        stdout=line.encode(),
        data=data,
        error="; ".join(problems) or None,
    )


async def run_step(ctx: TargetContext, step: Step, snmp: SnmpDriver) -> StepOutcome:
    """Run one step with its timeout; every failure but cancellation is an outcome."""
    started = time.monotonic()
    if ctx.work.problem:
        return StepOutcome(RunStatus.FAILED, 0.0, error=ctx.work.problem)
    try:
        async with asyncio.timeout(step.timeout + 5.0):  # drivers enforce step.timeout first
            if step.type is StepType.SSH_COMMAND:
                return await _ssh(ctx, step)
            if step.type in (StepType.SNMP_GET, StepType.SNMP_WALK, StepType.SNMP_SET):
                return await _snmp(ctx, step, snmp)
            return await _reachability(ctx, step)
    except TimeoutError:
        message = f"timed out after {step.timeout:g} s"
    except OpsError as exc:
        message = str(exc)
    except Exception as exc:
        log.exception("step %s on %s failed unexpectedly", step.name, ctx.work.name)
        message = f"internal error ({type(exc).__name__}); see the log"
    return StepOutcome(RunStatus.FAILED, (time.monotonic() - started) * 1000, error=message)
