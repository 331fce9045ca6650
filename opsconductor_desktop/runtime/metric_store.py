"""Samples in the database: batched writes, five-minute rollups, retention.

``write`` stores a batch of check results in one transaction: the samples, the series
catalogue with each series' latest value, and the per-(monitor, target) check state.
``rollup`` folds completed five-minute buckets of raw samples into ``sample_rollups`` in
SQL (one aggregate per bucket), from where the previous run stopped; it is idempotent.
``retention`` deletes raw samples and rollups older than their keep periods.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from opsconductor_desktop.domain.metrics import ROLLUP_SECONDS, bucket_start
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.runtime.poller import CheckResult
from opsconductor_desktop.store.database import Database
from opsconductor_desktop.store.models import (
    CheckStateRow,
    RollupRow,
    SampleRow,
    SeriesRow,
    table_of,
)

log = logging.getLogger(__name__)

_SAMPLES = table_of(SampleRow)
_ROLLUPS = table_of(RollupRow)
_SERIES = table_of(SeriesRow)
_STATES = table_of(CheckStateRow)
ROLLUP_LAG = timedelta(seconds=60)  # a bucket is folded once it has been closed this long
MAX_BUCKETS_PER_RUN = 288  # one day of buckets per rollup run
ERROR_LIMIT = 2000
# Rows per executemany: SQLAlchemy prepares a statement's parameters on the event loop's
# thread, so one statement of 5,000 rows holds the loop ~50 ms; 500 rows keep it under ~15.
WRITE_CHUNK = 500


class MetricStore:
    """See the module docstring."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = sqlite_insert if db.dialect == "sqlite" else pg_insert

    async def write(
        self, results: Sequence[CheckResult], monitor_ids: Mapping[str, uuid.UUID]
    ) -> int:
        """Store a batch of results; the number of samples written."""
        samples: list[dict[str, Any]] = []
        latest: dict[tuple[Any, str], dict[str, Any]] = {}
        states: dict[tuple[uuid.UUID, Any], dict[str, Any]] = {}
        for r in results:
            for series, value in r.samples:
                samples.append(
                    {"target_id": r.target_id, "series": series, "ts": r.at, "value": value}
                )
                key = (r.target_id, series)
                if key not in latest or latest[key]["last_at"] <= r.at:
                    latest[key] = {
                        "target_id": r.target_id,
                        "series": series,
                        "monitor": r.monitor,
                        "last_at": r.at,
                        "last_value": value,
                    }
            monitor_id = monitor_ids.get(r.monitor)
            if monitor_id is None:
                continue
            previous = states.get((monitor_id, r.target_id))
            failures = 0 if r.ok else (previous["failures"] + 1 if previous else 1)
            states[(monitor_id, r.target_id)] = {
                "monitor_id": monitor_id,
                "target_id": r.target_id,
                "ok": r.ok,
                "last_at": r.at,
                "last_ok_at": r.at if r.ok else None,
                "failures": failures,
                "duration_ms": r.duration_ms,
                "error": r.error[:ERROR_LIMIT],
            }
        if not (samples or states):
            return 0
        async with self.db.session() as session:
            if samples:
                # the same series at the same instant can only be a repeated write: keep one
                stmt = self._insert(_SAMPLES).on_conflict_do_nothing()
                await _execute_chunked(session, stmt, samples)
            if latest:
                ins = self._insert(_SERIES)
                stmt = ins.on_conflict_do_update(
                    index_elements=[_SERIES.c.target_id, _SERIES.c.series],
                    set_={
                        "monitor": ins.excluded.monitor,
                        "last_at": ins.excluded.last_at,
                        "last_value": ins.excluded.last_value,
                    },
                    where=_SERIES.c.last_at <= ins.excluded.last_at,
                )
                await _execute_chunked(session, stmt, list(latest.values()))
            if states:
                ins = self._insert(_STATES)
                stmt = ins.on_conflict_do_update(
                    index_elements=[_STATES.c.monitor_id, _STATES.c.target_id],
                    set_={
                        "ok": ins.excluded.ok,
                        "last_at": ins.excluded.last_at,
                        "last_ok_at": func.coalesce(ins.excluded.last_ok_at, _STATES.c.last_ok_at),
                        # consecutive failures: reset by a success, else one more
                        "failures": _failures(ins),
                        "duration_ms": ins.excluded.duration_ms,
                        "error": ins.excluded.error,
                    },
                )
                await _execute_chunked(session, stmt, list(states.values()))
        return len(samples)

    async def rollup(self, now: datetime | None = None) -> int:
        """Fold every closed bucket not yet folded; the number of rollup rows written."""
        now = now or utcnow()
        until = bucket_start(now - ROLLUP_LAG)
        step = timedelta(seconds=ROLLUP_SECONDS)
        async with self.db.session() as session:
            done = await session.scalar(select(func.max(_ROLLUPS.c.bucket)))
            if done is not None:
                start = done + step
            else:
                first = await session.scalar(select(func.min(_SAMPLES.c.ts)))
                if first is None:
                    return 0
                start = bucket_start(first)
            written = 0
            buckets = 0
            while start < until and buckets < MAX_BUCKETS_PER_RUN:
                end = start + step
                rows = (
                    await session.execute(
                        select(
                            _SAMPLES.c.target_id,
                            _SAMPLES.c.series,
                            func.count(),
                            func.min(_SAMPLES.c.value),
                            func.avg(_SAMPLES.c.value),
                            func.max(_SAMPLES.c.value),
                        )
                        .where(_SAMPLES.c.ts >= start, _SAMPLES.c.ts < end)
                        .group_by(_SAMPLES.c.target_id, _SAMPLES.c.series)
                    )
                ).all()
                if rows:
                    values = [
                        {
                            "target_id": t,
                            "series": s,
                            "bucket": start,
                            "count": int(n),
                            "minimum": float(lo),
                            "average": float(avg),
                            "maximum": float(hi),
                        }
                        for t, s, n, lo, avg, hi in rows
                    ]
                    await session.execute(self._insert(_ROLLUPS).on_conflict_do_nothing(), values)
                    written += len(values)
                start = end
                buckets += 1
        if written:
            log.debug("rolled up %d bucket(s), %d row(s)", buckets, written)
        return written

    async def retention(
        self, *, raw_days: float, rollup_days: float, now: datetime | None = None
    ) -> tuple[int, int]:
        """Delete raw samples and rollups past their keep periods; how many of each."""
        now = now or utcnow()
        async with self.db.session() as session:
            raw = await session.execute(
                delete(_SAMPLES).where(_SAMPLES.c.ts < now - timedelta(days=raw_days))
            )
            rolled = await session.execute(
                delete(_ROLLUPS).where(_ROLLUPS.c.bucket < now - timedelta(days=rollup_days))
            )
        counts = (int(raw.rowcount or 0), int(rolled.rowcount or 0))  # type: ignore[attr-defined]
        if any(counts):
            log.info("retention removed %d sample(s) and %d rollup(s)", *counts)
        return counts


def _failures(ins: Any) -> Any:
    return case((ins.excluded.ok, literal(0)), else_=_STATES.c.failures + 1)


async def _execute_chunked(session: Any, stmt: Any, rows: Sequence[dict[str, Any]]) -> None:
    """One executemany per ``WRITE_CHUNK`` rows, in the caller's transaction."""
    for start in range(0, len(rows), WRITE_CHUNK):
        await session.execute(stmt, rows[start : start + WRITE_CHUNK])
