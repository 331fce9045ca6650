"""Persisting a run as it happens: each target's start, each step, each finish.

Each fact is committed before the call that records it returns, so a crash loses at most
the steps in flight; at start-up runs left ``running`` by a crash become ``interrupted``.

Group commit: the facts of a run's targets arrive concurrently (a fan-out to 100 targets
records ~300), so one writer task writes them, and the facts that arrive while a
transaction is being written share the next one, each kind of statement executed once
for all its rows (``executemany``). One transaction per fact made every concurrent writer
wait on SQLite's write lock (its busy handler sleeps up to 100 ms per retry):
``tests/bench/bench_ssh_fanout.py`` measured a median of 28-53 ms and up to 3 s per fact,
longer in total than the SSH work itself.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from opsconductor_desktop.domain.jobs import RunStatus
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.runtime.steps import StepOutcome, TargetWork
from opsconductor_desktop.store.database import Database
from opsconductor_desktop.store.models import (
    JobRunRow,
    JobRunTargetRow,
    StepResultRow,
    table_of,
)

UNFINISHED = (RunStatus.PENDING.value, RunStatus.RUNNING.value)

_TARGETS = table_of(JobRunTargetRow)
_STEPS = table_of(StepResultRow)


def _param(name: str, column: str) -> Any:
    return bindparam(name, type_=_TARGETS.c[column].type)


_TARGET_STARTED = (
    update(_TARGETS)
    .where(_TARGETS.c.id == bindparam("b_id"))
    .values(
        status=_param("b_status", "status"),
        started_at=_param("b_at", "started_at"),
        current_step=_param("b_step", "current_step"),
    )
)
_STEP_ROW = insert(_STEPS)
_CURRENT_STEP = (
    update(_TARGETS)
    .where(_TARGETS.c.id == bindparam("b_id"))
    .values(current_step=_param("b_step", "current_step"))
)
_TARGET_FINISHED = (
    update(_TARGETS)
    .where(_TARGETS.c.id == bindparam("b_id"))
    .values(
        status=_param("b_status", "status"),
        finished_at=_param("b_at", "finished_at"),
        error=_param("b_error", "error"),
    )
)
# A batch runs its statements in this order, which is also a target's life cycle (two
# facts of one target rarely share a batch: each is awaited before the next is made).
_ORDER: tuple[Any, ...] = (
    _TARGET_STARTED,
    _STEP_ROW,
    _CURRENT_STEP,
    _TARGET_FINISHED,
)
Fact = list[tuple[Any, dict[str, Any]]]  # (one of _ORDER, its parameters)


class RunRecorder:
    """Writes ``job_runs`` → ``job_run_targets`` → ``step_results`` as results arrive."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: list[tuple[Fact, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def _record(self, fact: Fact) -> None:
        """Write ``fact`` in a transaction shared with the facts submitted meanwhile;
        return once it is committed (raise what writing it raised)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.append((fact, future))
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not loop:
            self._writer = asyncio.create_task(self._drain(), name="run recorder")
        await future

    async def _write(self, facts: Sequence[Fact]) -> None:
        rows: dict[Any, list[dict[str, Any]]] = {statement: [] for statement in _ORDER}
        for fact in facts:
            for statement, params in fact:
                rows[statement].append(params)
        async with self.db.session() as s:
            for statement, many in rows.items():
                if many:
                    await s.execute(statement, many)

    async def _drain(self) -> None:
        batch: list[tuple[Fact, asyncio.Future[None]]] = []
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                # a caller cancelled before its transaction began is not recorded
                batch = [(fact, f) for fact, f in batch if not f.done()]
                if not batch:
                    continue
                try:
                    await self._write([fact for fact, _ in batch])
                except Exception as exc:  # noqa: BLE001 - re-raised by the caller(s)
                    if len(batch) == 1:
                        _settle(batch[0][1], exc)
                    else:  # one bad fact must not lose the others: write each alone
                        for fact, future in batch:
                            try:
                                await self._write([fact])
                            except Exception as single:  # noqa: BLE001 - re-raised by the caller
                                _settle(future, single)
                            else:
                                _settle(future, None)
                else:
                    for _, future in batch:
                        _settle(future, None)
                batch = []
        finally:  # the writer was cancelled (shutdown): nobody may wait forever
            for _, future in batch + self._queue:
                future.cancel()
            self._queue = []

    async def create_run(
        self,
        *,
        job_id: uuid.UUID | None,
        job_name: str,
        definition: dict[str, Any],
        selection: dict[str, Any],
        actor: str,
        owner: str,
        targets: Sequence[TargetWork],
        rerun_of: uuid.UUID | None = None,
    ) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
        """Insert the run and one pending row per target; returns their ids."""
        run_id = uuid.uuid4()
        ids = {t.name: uuid.uuid4() for t in targets}
        async with self.db.session() as s:
            s.add(
                JobRunRow(
                    id=run_id,
                    job_id=job_id,
                    job_name=job_name,
                    definition=definition,
                    selection=selection,
                    status=RunStatus.PENDING.value,
                    actor=actor,
                    owner=owner,
                    rerun_of=rerun_of,
                    created_at=utcnow(),
                    total=len(targets),
                    succeeded=0,
                    failed=0,
                    cancelled=0,
                )
            )
            await s.flush()
            if targets:
                await s.execute(
                    table_of(JobRunTargetRow).insert(),
                    [
                        {
                            "id": ids[t.name],
                            "run_id": run_id,
                            "target_id": t.target_id,
                            "target_name": t.name,
                            "address": t.address,
                            "status": RunStatus.PENDING.value,
                        }
                        for t in targets
                    ],
                )
        return run_id, ids

    async def run_started(self, run_id: uuid.UUID) -> None:
        async with self.db.session() as s:
            await s.execute(
                update(JobRunRow)
                .where(JobRunRow.id == run_id)
                .values(status=RunStatus.RUNNING.value, started_at=utcnow())
            )

    async def target_started(self, rt_id: uuid.UUID) -> None:
        params = {"b_id": rt_id, "b_status": RunStatus.RUNNING.value, "b_at": utcnow(), "b_step": 0}
        await self._record([(_TARGET_STARTED, params)])

    async def step_finished(
        self, rt_id: uuid.UUID, index: int, name: str, kind: str, outcome: StepOutcome
    ) -> None:
        now = utcnow()
        row = {
            "id": uuid.uuid4(),
            "run_target_id": rt_id,
            "step_index": index,
            "step_name": name,
            "step_type": kind,
            "status": outcome.status.value,
            "exit_status": outcome.exit_status,
            "stdout": outcome.stdout,
            "stderr": outcome.stderr,
            "stdout_truncated": outcome.stdout_truncated,
            "stderr_truncated": outcome.stderr_truncated,
            "data": outcome.data,
            "error": outcome.error,
            "duration_ms": outcome.duration_ms,
            "started_at": now,
            "finished_at": now,
        }
        await self._record([(_STEP_ROW, row), (_CURRENT_STEP, {"b_id": rt_id, "b_step": index})])

    async def target_finished(self, rt_id: uuid.UUID, status: RunStatus, error: str | None) -> None:
        params = {"b_id": rt_id, "b_status": status.value, "b_at": utcnow(), "b_error": error}
        await self._record([(_TARGET_FINISHED, params)])

    async def run_finished(self, run_id: uuid.UUID, status: RunStatus) -> None:
        async with self.db.session() as s:
            result = await s.execute(
                select(JobRunTargetRow.status, func.count())
                .where(JobRunTargetRow.run_id == run_id)
                .group_by(JobRunTargetRow.status)
            )
            counts = {str(st): int(n) for st, n in result}
            await s.execute(
                update(JobRunRow)
                .where(JobRunRow.id == run_id)
                .values(
                    status=status.value,
                    finished_at=utcnow(),
                    succeeded=counts.get(RunStatus.SUCCEEDED.value, 0),
                    failed=counts.get(RunStatus.FAILED.value, 0),
                    cancelled=counts.get(RunStatus.CANCELLED.value, 0),
                )
            )

    async def mark_interrupted(self, is_dead: Callable[[str | None], bool]) -> int:
        """Unfinished runs whose owner process is gone become ``interrupted``."""
        async with self.db.session() as s:
            now = utcnow()
            rows = (
                await s.execute(
                    select(JobRunRow.id, JobRunRow.owner).where(JobRunRow.status.in_(UNFINISHED))
                )
            ).all()
            runs = [run_id for run_id, owner in rows if is_dead(owner)]
            if not runs:
                return 0
            await s.execute(
                update(JobRunTargetRow)
                .where(JobRunTargetRow.run_id.in_(runs), JobRunTargetRow.status.in_(UNFINISHED))
                .values(
                    status=RunStatus.INTERRUPTED.value,
                    finished_at=now,
                    error="interrupted: the console stopped before this finished",
                )
            )
            await s.execute(
                update(JobRunRow)
                .where(JobRunRow.id.in_(runs))
                .values(status=RunStatus.INTERRUPTED.value, finished_at=now)
            )
            return len(runs)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
