"""Persisting a run as it happens: each target's start, each step, each finish.

Short transactions, one per fact, so a crash loses at most the step in flight; at start-up
runs left ``running`` by a crash become ``interrupted``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select, update

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


class RunRecorder:
    """Writes ``job_runs`` → ``job_run_targets`` → ``step_results`` as results arrive."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
        async with self.db.session() as s:
            await s.execute(
                update(JobRunTargetRow)
                .where(JobRunTargetRow.id == rt_id)
                .values(status=RunStatus.RUNNING.value, started_at=utcnow(), current_step=0)
            )

    async def step_finished(
        self, rt_id: uuid.UUID, index: int, name: str, kind: str, outcome: StepOutcome
    ) -> None:
        now = utcnow()
        async with self.db.session() as s:
            s.add(
                StepResultRow(
                    id=uuid.uuid4(),
                    run_target_id=rt_id,
                    step_index=index,
                    step_name=name,
                    step_type=kind,
                    status=outcome.status.value,
                    exit_status=outcome.exit_status,
                    stdout=outcome.stdout,
                    stderr=outcome.stderr,
                    stdout_truncated=outcome.stdout_truncated,
                    stderr_truncated=outcome.stderr_truncated,
                    data=outcome.data,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                    started_at=now,
                    finished_at=now,
                )
            )
            await s.execute(
                update(JobRunTargetRow)
                .where(JobRunTargetRow.id == rt_id)
                .values(current_step=index)
            )

    async def target_finished(self, rt_id: uuid.UUID, status: RunStatus, error: str | None) -> None:
        async with self.db.session() as s:
            await s.execute(
                update(JobRunTargetRow)
                .where(JobRunTargetRow.id == rt_id)
                .values(status=status.value, finished_at=utcnow(), error=error)
            )

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
