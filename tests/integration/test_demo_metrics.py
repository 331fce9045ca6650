"""The demo's metrics: a day of raw samples, rollups that agree with them, a month of
history for the showcase router, check states with the two showcased problems; both
dialects, read back through the monitoring service the Graphs pane uses."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from opsconductor_desktop.services import demo, demo_metrics
from opsconductor_desktop.services.app import Core

ROUTER = "ams1-core-rtr-01"


def _hour_values(points: Any, hours: range) -> list[float]:
    return [
        v
        for t, v in zip(points.ts, points.values, strict=True)
        if datetime.fromtimestamp(t, UTC).hour in hours
        and datetime.fromtimestamp(t, UTC).weekday() < 5
    ]


async def test_demo_estate_has_a_day_of_raw_samples_and_a_month_of_rollups(core: Any) -> None:
    c = cast(Core, core)
    await demo.populate(c, targets=30)  # the ams1/fra2 backbone, no server
    series = {s.series: s for s in await c.monitoring.series(ROUTER)}
    assert set(series) == {"cpuLoad", "ifHCIn.1", "ifHCOut.1", "rtt_ms"}
    assert series["rtt_ms"].monitor == "core-ping"
    assert series["cpuLoad"].monitor == "snmp-basics"
    now = datetime.now(UTC)
    assert now - series["cpuLoad"].last_at < timedelta(minutes=6)

    raw = await c.monitoring.points(ROUTER, "ifHCIn.1", start=now - timedelta(hours=25))
    assert raw.resolution == "raw"
    assert 1430 <= len(raw.ts) <= 1441
    assert {round(b - a) for a, b in zip(raw.ts, raw.ts[1:], strict=False)} == {60}
    assert raw.values[-1] == series["ifHCIn.1"].last_value

    month = await c.monitoring.points(
        ROUTER, "ifHCIn.1", start=now - timedelta(days=30), resolution="5m"
    )
    assert len(month.ts) >= 30 * 288 - 3
    assert all(
        lo <= avg <= hi
        for lo, avg, hi in zip(month.minimum, month.values, month.maximum, strict=True)
    )
    # the last day's rollups are the raw samples folded, as the rollup job would fold them
    by_bucket = dict(zip(month.ts, month.values, strict=True))
    start = raw.ts[10] - raw.ts[10] % 300
    five = [v for t, v in zip(raw.ts, raw.values, strict=True) if start <= t < start + 300]
    assert len(five) == 5
    assert by_bucket[start] == pytest.approx(statistics.fmean(five))

    # traffic follows the working day: afternoons carry several times the nights' traffic
    afternoons = _hour_values(month, range(13, 16))
    nights = _hour_values(month, range(2, 5))
    assert statistics.fmean(afternoons) > 3 * statistics.fmean(nights)
    assert 1e9 < max(month.values) < 10e9  # bits per second of a 10G uplink

    # the other series have a few days of history, not a month
    switch = await c.monitoring.points(
        "ams1-dist-sw-01", "ifHCIn.1", start=now - timedelta(days=30), resolution="5m"
    )
    assert 3 * 288 < len(switch.ts) <= 4 * 288 + 1


async def test_check_states_show_the_showcased_problems(core: Any) -> None:
    c = cast(Core, core)
    await demo.populate(c, targets=30)
    states = {(s.target, s.monitor): s for s in await c.monitoring.check_states()}
    down = states[(demo_metrics.SNMP_DOWN_TARGET, "snmp-basics")]
    assert not down.ok
    assert "no SNMP response" in down.error
    assert down.failures == demo_metrics.SNMP_DOWN_MINUTES
    partial = states[(demo_metrics.PARTIAL_TARGET, "snmp-basics")]
    assert partial.ok
    assert "OID missing" in partial.error
    assert states[(ROUTER, "core-ping")].ok
    assert states[(ROUTER, "core-ping")].error == ""
    # the silent agent's series stop when it stopped answering; ping goes on
    series = {s.series: s for s in await c.monitoring.series(demo_metrics.SNMP_DOWN_TARGET)}
    gap = series["rtt_ms"].last_at - series["cpuLoad"].last_at
    assert timedelta(minutes=35) < gap <= timedelta(minutes=demo_metrics.SNMP_DOWN_MINUTES)
    # the demo monitors never poll the fictional addresses unless someone enables them
    enabled = {m.name: m.monitor.enabled for m in await c.monitoring.monitors()}
    assert {"core-ping", "snmp-basics"} <= set(enabled) and not any(enabled.values())


async def test_same_seed_same_curves_and_only_existing_targets(core: Any) -> None:
    c = cast(Core, core)
    await demo.populate(c, targets=1)  # only ams1-core-rtr-01 exists
    assert [s.series for s in await c.monitoring.series(ROUTER)] == [
        "cpuLoad",
        "ifHCIn.1",
        "ifHCOut.1",
        "rtt_ms",
    ]
    # drawn again for the same instant and seed: the same values
    now = datetime.now(UTC)
    shape = demo_metrics.DEMO_SERIES[1][3]
    again = demo_metrics.raw_points(shape, 0, 50, random.Random(3))
    assert again == demo_metrics.raw_points(shape, 0, 50, random.Random(3))
    assert again != demo_metrics.raw_points(shape, 0, 50, random.Random(4))
    points = await c.monitoring.points(ROUTER, "cpuLoad", start=now - timedelta(hours=2))
    assert all(0 <= v <= 100 for v in points.values)


def test_folding_keeps_only_complete_buckets() -> None:
    values = [float(v) for v in range(12)]  # 12 minutes from a bucket boundary
    assert demo_metrics.folded_buckets(600, values) == [
        (600, 5, 0.0, 2.0, 4.0),
        (900, 5, 5.0, 7.0, 9.0),
    ]
