"""The job executor: runs a job over its targets with bounded fan-out, progress and cancel.

Bounds: a global limit shared by every run (sized for the event loop and the SSH thread
pool), the job's own concurrency, and a per-target lock so two runs never hammer one
device at once. Each target is a task: cancelling it (or the run) stops the in-flight
SSH/SNMP work and records ``cancelled``. Results are persisted as they arrive.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from opsconductor_desktop.domain.jobs import FailurePolicy, JobDefinition, RunStatus
from opsconductor_desktop.drivers.snmp import SnmpDriver
from opsconductor_desktop.drivers.ssh import SshDriver
from opsconductor_desktop.runtime.recorder import RunRecorder
from opsconductor_desktop.runtime.steps import StepOutcome, TargetContext, TargetWork, run_step

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Progress:
    """One thing that happened in a run (the live view's feed)."""

    run_id: uuid.UUID
    target: str | None
    kind: str  # "run-started", "target-started", "step-finished", "target-finished", "run-finished"
    status: RunStatus
    step_index: int | None = None
    step_name: str | None = None
    line: str = ""


ProgressSink = Callable[[Progress], None]


class _TargetLocks:
    """One lock per target address, bounded: idle locks are dropped."""

    def __init__(self, limit: int = 4096) -> None:
        self._locks: OrderedDict[str, tuple[asyncio.Lock, int]] = OrderedDict()
        self._limit = limit

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class Executor:
    """Runs jobs. One per process; every client (GUI, CLI, agent) shares it."""

    def __init__(
        self, recorder: RunRecorder, snmp: SnmpDriver, ssh: SshDriver, *, global_limit: int = 50
    ) -> None:
        self.recorder = recorder
        self.snmp = snmp
        self.ssh = ssh
        self._global = asyncio.Semaphore(global_limit)
        self._locks = _TargetLocks()
        self._runs: dict[uuid.UUID, dict[str, asyncio.Task[RunStatus]]] = {}

    def active_runs(self) -> list[uuid.UUID]:
        return list(self._runs)

    def cancel(self, run_id: uuid.UUID, target: str | None = None) -> bool:
        """Cancel a whole run, or one target of it; False if nothing was running."""
        tasks = self._runs.get(run_id)
        if not tasks:
            return False
        chosen = (
            [tasks[target]]
            if target is not None and target in tasks
            else ([] if target is not None else list(tasks.values()))
        )
        for task in chosen:
            task.cancel()
        return bool(chosen)

    async def execute(
        self,
        run_id: uuid.UUID,
        job: JobDefinition,
        targets: Sequence[TargetWork],
        row_ids: dict[str, uuid.UUID],
        sink: ProgressSink | None = None,
    ) -> RunStatus:
        """Run ``job`` on ``targets`` (rows already created); return the run's status."""
        emit = sink or (lambda _p: None)
        await self.recorder.run_started(run_id)
        emit(Progress(run_id, None, "run-started", RunStatus.RUNNING))
        per_run = asyncio.Semaphore(job.concurrency)
        tasks = {
            t.name: asyncio.create_task(
                self._target(run_id, job, t, row_ids[t.name], per_run, emit),
                name=f"run {run_id} {t.name}",
            )
            for t in targets
        }
        self._runs[run_id] = tasks
        try:
            results = await asyncio.gather(*tasks.values(), return_exceptions=True)
        finally:
            del self._runs[run_id]
        statuses = [r if isinstance(r, RunStatus) else RunStatus.CANCELLED for r in results]
        status = _run_status(statuses)
        await self.recorder.run_finished(run_id, status)
        emit(Progress(run_id, None, "run-finished", status))
        return status

    async def _target(
        self,
        run_id: uuid.UUID,
        job: JobDefinition,
        work: TargetWork,
        rt_id: uuid.UUID,
        per_run: asyncio.Semaphore,
        emit: ProgressSink,
    ) -> RunStatus:
        ctx = TargetContext(work, self.ssh, self.snmp)
        status, error = RunStatus.SUCCEEDED, None
        try:
            async with per_run, self._global, self._locks.hold(work.address):
                await self.recorder.target_started(rt_id)
                emit(Progress(run_id, work.name, "target-started", RunStatus.RUNNING))
                status, error = await self._steps(run_id, job, ctx, rt_id, emit)
        except asyncio.CancelledError:
            status, error = RunStatus.CANCELLED, "cancelled by the operator"
        finally:
            await asyncio.shield(self._finish_target(ctx, rt_id, status, error))
            emit(Progress(run_id, work.name, "target-finished", status, line=error or ""))
        return status

    async def _finish_target(
        self, ctx: TargetContext, rt_id: uuid.UUID, status: RunStatus, error: str | None
    ) -> None:
        await ctx.close()
        await self.recorder.target_finished(rt_id, status, error)

    async def _steps(
        self,
        run_id: uuid.UUID,
        job: JobDefinition,
        ctx: TargetContext,
        rt_id: uuid.UUID,
        emit: ProgressSink,
    ) -> tuple[RunStatus, str | None]:
        failures: list[str] = []
        for index, step in enumerate(job.steps):
            try:
                outcome = await run_step(ctx, step, self.snmp)
            except asyncio.CancelledError:
                outcome = StepOutcome(RunStatus.CANCELLED, 0.0, error="cancelled by the operator")
                await asyncio.shield(
                    self.recorder.step_finished(rt_id, index, step.name, step.type.value, outcome)
                )
                raise
            await self.recorder.step_finished(rt_id, index, step.name, step.type.value, outcome)
            emit(
                Progress(
                    run_id,
                    ctx.work.name,
                    "step-finished",
                    outcome.status,
                    index,
                    step.name,
                    outcome.last_line,
                )
            )
            if outcome.status is RunStatus.FAILED:
                failures.append(f"{step.name}: {outcome.error}")
                if job.failure_policy is FailurePolicy.STOP:
                    break
        if failures:
            return RunStatus.FAILED, "; ".join(failures)[:2000]
        return RunStatus.SUCCEEDED, None


def _run_status(statuses: list[RunStatus]) -> RunStatus:
    if any(s is RunStatus.FAILED for s in statuses):
        return RunStatus.FAILED
    if any(s is RunStatus.CANCELLED for s in statuses):
        return RunStatus.CANCELLED
    return RunStatus.SUCCEEDED
