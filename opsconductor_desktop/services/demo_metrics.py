"""Believable metrics for the demo estate: a day of raw samples, days to a month of rollups.

``populate_metrics(core)`` gives a handful of demo targets (core routers, a distribution
switch, a firewall, a server: those of ``DEMO_SERIES`` the estate has) their series:

* raw samples every 60 s for the last 24 hours,
* five-minute rollups (min, average, max): 30 days for the showcase router
  (``ams1-core-rtr-01``), 4 days for the others (as if their monitor had been added
  then) — those of the last day folded from the raw samples, as the rollup job would
  have, the older ones drawn,
* the ``metric_series`` catalogue row with each series' latest value,
* two monitors the series come from (``snmp-basics``, ``core-ping``), left *disabled*
  because the demo addresses are fictional (enable one to poll for real), and their
  check states: one target's SNMP agent stopped answering 40 minutes ago (its SNMP
  series end there), one misses an interface.

Traffic follows a working day (an afternoon peak, quiet nights, calmer weekends) with
seeded noise, so the same seed draws the same shapes. Everything goes in with one bulk
insert per table, in one transaction: about 80,000 rows, some 2 s on SQLite. (Longer
histories for every series would cost a second per 60,000 rows: the rows go through
SQLAlchemy's parameter processing one by one.)
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from opsconductor_desktop.domain.metrics import ROLLUP_SECONDS
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.services.app import Core
from opsconductor_desktop.store.models import (
    CheckStateRow,
    RollupRow,
    SampleRow,
    SeriesRow,
    TargetRow,
    table_of,
)

RAW_STEP = 60  # seconds between raw samples
RAW_HOURS = 24
HISTORY_DAYS = 4  # rollups of most demo series reach back this far ...
LONG_HISTORY_DAYS = 30  # ... and those of the showcase router this far
LONG_HISTORY_TARGET = "ams1-core-rtr-01"
SNMP_MONITOR = "snmp-basics"
PING_MONITOR = "core-ping"
SNMP_DOWN_TARGET = "fra2-core-rtr-01"  # its SNMP agent stopped answering ...
SNMP_DOWN_MINUTES = 40  # ... this long ago
PARTIAL_TARGET = "ams1-edge-fw-01"  # answers, but one interface's OID is missing
GBIT = 1e9


@dataclass(frozen=True, slots=True)
class Shape:
    """How a series moves: ``low`` at night, ``high`` at the afternoon peak (working
    days; weekends reach ``weekend`` of the swing), with relative ``noise``, and rare
    ``spikes`` (probability per sample) of ``spike`` times the level."""

    low: float
    high: float
    noise: float = 0.05
    weekend: float = 0.6
    peak_hour: float = 14.5
    spikes: float = 0.0
    spike: float = 1.0
    cap: float | None = None

    def level(self, t: float) -> float:
        """The undisturbed value at epoch second ``t`` (UTC)."""
        hour = t % 86400 / 3600
        day = 0.5 + 0.5 * math.cos(2 * math.pi * (hour - self.peak_hour) / 24)
        swing = (self.high - self.low) * math.pow(day, 1.6)
        if (int(t // 86400) + 3) % 7 >= 5:  # 1970-01-01 was a Thursday: 5, 6 are weekends
            swing *= self.weekend
        return self.low + swing

    def draw(self, t: float, wander: float, rng: random.Random) -> float:
        value = self.level(t) * (1 + wander + rng.gauss(0, self.noise))
        if self.spikes and rng.random() < self.spikes:
            value *= self.spike
        value = max(value, 0.0)
        return min(value, self.cap) if self.cap is not None else value


CPU = Shape(12, 38, noise=0.08, spikes=0.002, spike=2.2, cap=100)
FIREWALL_CPU = Shape(20, 64, noise=0.07, spikes=0.003, spike=1.5, cap=100)
SERVER_CPU = Shape(6, 30, noise=0.15, peak_hour=2.0, weekend=1.0, spikes=0.01, spike=2.5, cap=100)
RTT = Shape(0.7, 1.1, noise=0.12, weekend=1.0, spikes=0.004, spike=9.0)
WAN_RTT = Shape(5.8, 7.4, noise=0.06, weekend=1.0, spikes=0.004, spike=4.0)


def _traffic(peak_gbit: float) -> Shape:
    return Shape(peak_gbit * GBIT * 0.14, peak_gbit * GBIT, noise=0.035, weekend=0.45)


#: (target, series, monitor, shape): what the demo measures where.
DEMO_SERIES: tuple[tuple[str, str, str, Shape], ...] = (
    ("ams1-core-rtr-01", "cpuLoad", SNMP_MONITOR, CPU),
    ("ams1-core-rtr-01", "ifHCIn.1", SNMP_MONITOR, _traffic(6.4)),
    ("ams1-core-rtr-01", "ifHCOut.1", SNMP_MONITOR, _traffic(3.9)),
    ("ams1-core-rtr-01", "rtt_ms", PING_MONITOR, RTT),
    ("ams1-core-rtr-02", "cpuLoad", SNMP_MONITOR, CPU),
    ("ams1-core-rtr-02", "ifHCIn.1", SNMP_MONITOR, _traffic(4.1)),
    ("ams1-core-rtr-02", "ifHCOut.1", SNMP_MONITOR, _traffic(2.7)),
    ("ams1-core-rtr-02", "rtt_ms", PING_MONITOR, RTT),
    ("ams1-dist-sw-01", "cpuLoad", SNMP_MONITOR, Shape(5, 14, noise=0.1, cap=100)),
    ("ams1-dist-sw-01", "ifHCIn.1", SNMP_MONITOR, _traffic(2.2)),
    ("ams1-dist-sw-01", "rtt_ms", PING_MONITOR, RTT),
    ("ams1-edge-fw-01", "cpuLoad", SNMP_MONITOR, FIREWALL_CPU),
    ("ams1-edge-fw-01", "ifHCIn.1", SNMP_MONITOR, _traffic(1.6)),
    ("ams1-edge-fw-01", "rtt_ms", PING_MONITOR, RTT),
    ("fra2-core-rtr-01", "cpuLoad", SNMP_MONITOR, CPU),
    ("fra2-core-rtr-01", "ifHCIn.1", SNMP_MONITOR, _traffic(5.2)),
    ("fra2-core-rtr-01", "rtt_ms", PING_MONITOR, WAN_RTT),
    ("ams1-srv-01", "cpuLoad", SNMP_MONITOR, SERVER_CPU),
    ("ams1-srv-01", "rtt_ms", PING_MONITOR, Shape(0.3, 0.5, noise=0.1, weekend=1.0)),
)

MONITORS: tuple[dict[str, Any], ...] = (
    {
        "name": SNMP_MONITOR,
        "kind": "snmp",
        "description": "Demo: CPU and uplink traffic (disabled: the demo addresses are "
        "fictional; enable to poll for real)",
        "enabled": False,
        "interval": 60,
        "select": {"rule": "kind:router or kind:switch or kind:firewall or kind:server"},
        "metrics": [
            {"name": "cpuLoad", "oid": "1.3.6.1.4.1.2021.11.9.0", "type": "gauge"},
            {
                "name": "ifHCIn",
                "oid": "1.3.6.1.2.1.31.1.1.1.6",
                "walk": True,
                "type": "counter",
                "bits": 64,
                "scale": 8,
            },
            {
                "name": "ifHCOut",
                "oid": "1.3.6.1.2.1.31.1.1.1.10",
                "walk": True,
                "type": "counter",
                "bits": 64,
                "scale": 8,
            },
        ],
    },
    {
        "name": PING_MONITOR,
        "kind": "reachability",
        "description": "Demo: round-trip time to the backbone (disabled like snmp-basics)",
        "enabled": False,
        "method": "icmp",
        "interval": 30,
        "select": {"rule": "kind:router or kind:switch or kind:firewall or kind:server"},
    },
)


@dataclass(frozen=True, slots=True)
class MetricsSummary:
    """What ``populate_metrics`` wrote."""

    targets: int
    series: int
    samples: int
    rollups: int


def _wander(rng: random.Random, steps: int, *, keep: float, size: float) -> Iterator[float]:
    """A slow random walk around 0 (AR(1)): the drift that makes curves look measured."""
    value = 0.0
    for _ in range(steps):
        value = keep * value + rng.gauss(0, size)
        yield value


def raw_points(shape: Shape, start: int, count: int, rng: random.Random) -> list[float]:
    """``count`` raw values every ``RAW_STEP`` seconds from epoch second ``start``."""
    drift = _wander(rng, count, keep=0.985, size=shape.noise * 0.12)
    return [shape.draw(start + i * RAW_STEP, d, rng) for i, d in enumerate(drift)]


def drawn_buckets(
    shape: Shape, start: int, count: int, rng: random.Random
) -> list[tuple[int, int, float, float, float]]:
    """``count`` five-minute buckets (start, count, min, avg, max) drawn without raw
    samples (as if folded from one sample a minute)."""
    drift = _wander(rng, count, keep=0.95, size=shape.noise * 0.25)
    out = []
    for i, d in enumerate(drift):
        bucket = start + i * ROLLUP_SECONDS
        avg = shape.draw(bucket + ROLLUP_SECONDS / 2, d, rng)
        spread = avg * shape.noise * (1.2 + rng.random())
        low, high = max(avg - spread, 0.0), avg + spread
        high = min(high, shape.cap) if shape.cap is not None else high
        out.append((bucket, ROLLUP_SECONDS // RAW_STEP, low, avg, high))
    return out


def folded_buckets(
    start: int, values: Sequence[float]
) -> list[tuple[int, int, float, float, float]]:
    """Raw values (every ``RAW_STEP`` from ``start``, on a bucket boundary) folded into
    complete five-minute buckets: (start, count, min, avg, max)."""
    per = ROLLUP_SECONDS // RAW_STEP
    out = []
    for i in range(0, len(values) - per + 1, per):
        chunk = values[i : i + per]
        out.append((start + i * RAW_STEP, per, min(chunk), sum(chunk) / per, max(chunk)))
    return out


def _history_days(target: str) -> int:
    return LONG_HISTORY_DAYS if target == LONG_HISTORY_TARGET else HISTORY_DAYS


async def populate_metrics(
    core: Core, *, seed: int = 7, now: datetime | None = None
) -> MetricsSummary:
    """Write the demo metrics (see the module docstring) for the targets that exist."""
    now = now or utcnow()
    end = int(now.timestamp()) // ROLLUP_SECONDS * ROLLUP_SECONDS  # a bucket boundary
    raw_start = end - RAW_HOURS * 3600
    async with core.ctx.db.session() as s:
        wanted = {t for t, *_ in DEMO_SERIES}
        found = await s.execute(
            select(TargetRow.name, TargetRow.id).where(TargetRow.name.in_(wanted))
        )
        ids: dict[str, uuid.UUID] = {name: tid for name, tid in found.all()}
    if not ids:
        return MetricsSummary(0, 0, 0, 0)
    monitor_ids: dict[str, uuid.UUID] = {}
    for document in MONITORS:
        info, _ = await core.monitoring.save_monitor(document)
        monitor_ids[info.name] = info.id
    rng = random.Random(seed)
    times = _Times()
    samples: list[dict[str, Any]] = []
    rollups: list[dict[str, Any]] = []
    catalogue: list[dict[str, Any]] = []
    for target, series, monitor, shape in DEMO_SERIES:
        if target not in ids:
            continue
        key = {"target_id": ids[target], "series": series}
        count = (end - raw_start) // RAW_STEP + 1
        values = raw_points(shape, raw_start, count, rng)
        if target == SNMP_DOWN_TARGET and monitor == SNMP_MONITOR:
            values = values[: count - SNMP_DOWN_MINUTES * 60 // RAW_STEP]
        first = raw_start - (_history_days(target) * 86400 - RAW_HOURS * 3600)
        older = drawn_buckets(shape, first, (raw_start - first) // ROLLUP_SECONDS, rng)
        samples += (
            key | {"ts": times.at(raw_start + i * RAW_STEP), "value": v}
            for i, v in enumerate(values)
        )
        rollups += (
            key | {"bucket": times.at(b), "count": n, "minimum": lo, "average": avg, "maximum": hi}
            for b, n, lo, avg, hi in (*older, *folded_buckets(raw_start, values))
        )
        last_at = raw_start + (len(values) - 1) * RAW_STEP
        catalogue.append(
            key | {"monitor": monitor, "last_at": times.at(last_at), "last_value": values[-1]}
        )
    states = _check_states(ids, monitor_ids, now)
    async with core.ctx.db.session() as s:
        await s.execute(insert(table_of(SampleRow)), samples)
        await s.execute(insert(table_of(RollupRow)), rollups)
        await s.execute(insert(table_of(SeriesRow)), catalogue)
        await s.execute(insert(table_of(CheckStateRow)), states)
    return MetricsSummary(len(ids), len(catalogue), len(samples), len(rollups))


class _Times:
    """Aware datetimes of epoch seconds, made once each (every series shares them)."""

    def __init__(self) -> None:
        self._made: dict[int, datetime] = {}

    def at(self, epoch: int) -> datetime:
        moment = self._made.get(epoch)
        if moment is None:
            moment = self._made[epoch] = datetime.fromtimestamp(epoch, UTC)
        return moment


def _check_states(
    ids: dict[str, uuid.UUID], monitors: dict[str, uuid.UUID], now: datetime
) -> list[dict[str, Any]]:
    """Every (monitor, demo target) pair: all well but for the two showcased problems."""
    measured = {(t, m) for t, _, m, _ in DEMO_SERIES if t in ids}
    out = []
    for target, monitor in sorted(measured):
        state: dict[str, Any] = {
            "monitor_id": monitors[monitor],
            "target_id": ids[target],
            "ok": True,
            "last_at": now - timedelta(seconds=12),
            "last_ok_at": now - timedelta(seconds=12),
            "failures": 0,
            "duration_ms": 38.0 if monitor == SNMP_MONITOR else 1.2,
            "error": "",
        }
        if target == SNMP_DOWN_TARGET and monitor == SNMP_MONITOR:
            state |= {
                "ok": False,
                "last_ok_at": now - timedelta(minutes=SNMP_DOWN_MINUTES),
                "failures": SNMP_DOWN_MINUTES,
                "duration_ms": 30_000.0,
                "error": "no SNMP response after 2 retries (timeout 10 s)",
            }
        elif target == PARTIAL_TARGET and monitor == SNMP_MONITOR:
            state["error"] = "ifHCOut: OID missing (noSuchObject 1.3.6.1.2.1.31.1.1.1.10)"
        out.append(state)
    return out
