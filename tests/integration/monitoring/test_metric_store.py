"""Samples, rollups, retention and the graph queries, on both dialects."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from opsconductor_desktop.domain.errors import NotFoundError, ValidationError
from opsconductor_desktop.domain.targets import TargetSpec
from opsconductor_desktop.runtime.metric_store import MetricStore
from opsconductor_desktop.runtime.poller import CheckResult
from opsconductor_desktop.services.app import Core

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def result(target: object, at: datetime, **samples: float) -> CheckResult:
    return CheckResult("m", "r1", target, at, True, 1.0, tuple(samples.items()))


async def test_write_rollup_retention_and_points(core: Core) -> None:
    target = await core.inventory.create_target(TargetSpec("r1", "127.0.0.1"))
    store = MetricStore(core.ctx.db)
    monitor_id = uuid.uuid4()
    # two hours of one sample a minute: cpu climbs 0..119, temp constant
    batch = [
        result(target.id, T0 + timedelta(minutes=i), cpu=float(i), temp=40.0) for i in range(120)
    ]
    assert await store.write(batch, {}) == 240
    assert await store.write(batch[:3], {}) == 6  # a repeated write is ignored, not an error
    written = await store.rollup(now=T0 + timedelta(hours=2, minutes=5))
    assert written == 2 * 24  # 24 closed buckets per series
    assert await store.rollup(now=T0 + timedelta(hours=2, minutes=5)) == 0  # idempotent

    raw = await core.monitoring.points(
        "r1", "cpu", start=T0, end=T0 + timedelta(minutes=9, seconds=59)
    )
    assert raw.resolution == "raw" and raw.values == tuple(float(i) for i in range(10))
    five = await core.monitoring.points(
        "r1", "cpu", start=T0, end=T0 + timedelta(hours=2), resolution="5m"
    )
    assert five.values[:2] == (2.0, 7.0) and five.minimum[:2] == (0.0, 5.0)
    assert five.maximum[:2] == (4.0, 9.0)
    hourly = await core.monitoring.points(
        "r1", "cpu", start=T0, end=T0 + timedelta(hours=2), resolution="1h"
    )
    assert hourly.values == (29.5, 89.5)  # folded by the database, weighted by count
    assert hourly.minimum == (0.0, 60.0) and hourly.maximum == (59.0, 119.0)
    assert [datetime.fromtimestamp(t, UTC) for t in hourly.ts] == [T0, T0 + timedelta(hours=1)]
    auto = await core.monitoring.points("r1", "cpu", start=T0, end=T0 + timedelta(days=3))
    assert auto.resolution == "5m"
    assert (
        await core.monitoring.points("r1", "cpu", start=T0, end=T0 + timedelta(days=20))
    ).resolution == "1h"
    with pytest.raises(ValidationError):
        await core.monitoring.points("r1", "cpu", start=T0, end=T0 - timedelta(hours=1))
    with pytest.raises(NotFoundError):
        await core.monitoring.series("nope")

    series = await core.monitoring.series("r1")
    assert [(s.series, s.last_value) for s in series] == [("cpu", 119.0), ("temp", 40.0)]

    removed = await store.retention(
        raw_days=1, rollup_days=30, now=T0 + timedelta(days=1, minutes=30)
    )
    assert removed == (60, 0)  # the first half hour of raw samples, per series x 2 = 60
    removed = await store.retention(raw_days=1, rollup_days=1, now=T0 + timedelta(days=5))
    assert removed == (180, 48)
    del monitor_id


async def test_check_states_count_failures_and_keep_last_ok(core: Core) -> None:
    target = await core.inventory.create_target(TargetSpec("r1", "127.0.0.1"))
    await core.monitoring.save_monitor(
        {"name": "m", "kind": "reachability", "select": {"targets": ["r1"]}}
    )
    (info,) = await core.monitoring.monitors()
    store = MetricStore(core.ctx.db)
    ids = {"m": info.id}
    ok = result(target.id, T0)
    bad = CheckResult("m", "r1", target.id, T0 + timedelta(minutes=1), False, 5.0, (), "timeout")
    bad2 = CheckResult("m", "r1", target.id, T0 + timedelta(minutes=2), False, 5.0, (), "again")
    await store.write([ok], ids)
    await store.write([bad], ids)
    await store.write([bad2], ids)
    (state,) = await core.monitoring.check_states(target="r1")
    assert (state.ok, state.failures, state.error) == (False, 2, "again")
    assert state.last_ok_at == T0
    assert await core.monitoring.check_states(failing=True)
    await store.write([result(target.id, T0 + timedelta(minutes=3))], ids)
    (state,) = await core.monitoring.check_states(target="r1")
    assert (state.ok, state.failures, state.error) == (True, 0, "")
