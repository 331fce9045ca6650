"""Flood gate, bounded recent list and the alert batcher of the listening sources."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.domain.errors import DatabaseUnavailableError
from opsconductor_desktop.runtime.receivers.base import (
    AlertBatcher,
    FloodGate,
    ReceiverCounters,
    RecentList,
)


def alert(i: int) -> NormalizedAlert:
    return NormalizedAlert("syslog", f"k{i}", Severity.MINOR, f"message {i}", target="r1")


def test_flood_gate_allows_the_burst_then_the_rate() -> None:
    now = [0.0]
    gate = FloodGate(rate=10, burst=5, clock=lambda: now[0])
    assert [gate.allow() for _ in range(7)] == [True] * 5 + [False] * 2
    now[0] = 0.3  # three tokens back
    assert [gate.allow() for _ in range(4)] == [True, True, True, False]
    with pytest.raises(ValueError):
        FloodGate(rate=0, burst=1)


def test_recent_list_is_bounded() -> None:
    recent = RecentList(limit=3)
    for i in range(10):
        recent.add({"i": i})
    assert [x["i"] for x in recent.items()] == [7, 8, 9]


async def test_batcher_batches_bounds_and_summarizes_drops() -> None:
    got: list[list[NormalizedAlert]] = []

    async def sink(batch: Sequence[NormalizedAlert]) -> None:
        got.append(list(batch))

    counters = ReceiverCounters()
    batcher = AlertBatcher(sink, counters, source="syslog", max_queue=5, batch=3, interval=10)
    runner = asyncio.create_task(batcher.run())
    for i in range(3):
        assert batcher.put(alert(i))
    await asyncio.sleep(0.05)  # a full batch wakes the flusher before the interval
    assert [len(b) for b in got] == [3]
    for i in range(8):
        batcher.put(alert(i))  # 5 fit (the flusher has not run yet), 3 are dropped
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert counters.dropped >= 1
    flood = [a for b in got for a in b if a.key == "flood"]
    assert len(flood) == 1 and flood[0].details["dropped"] == counters.dropped
    assert not batcher.put(alert(99))  # closed: refused and counted


async def test_batcher_counts_what_the_database_refused() -> None:
    async def sink(batch: Sequence[NormalizedAlert]) -> None:
        raise DatabaseUnavailableError("database went away")

    counters = ReceiverCounters()
    batcher = AlertBatcher(sink, counters, source="traps")
    batcher.put(alert(1))
    assert await batcher.flush() == 0
    assert counters.dropped == 1 and "database went away" in counters.last_error
