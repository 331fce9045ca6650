"""Turning polled values into samples: counter rates and rollups.

An SNMP counter only means something as a difference: the poller keeps the previous
reading of each series (value, time, the device's sysUpTime) and ``counter_rate`` turns
two readings into a per-second rate, or says why there is none this time:

* the first reading of a series is only a baseline;
* a counter that went down wrapped (add 2**32 or 2**64, by the counter's width) when
  the wrapped difference is plausible (less than half the range), else it was reset
  (``clear counters``) and the reading becomes the new baseline;
* a device whose sysUpTime went backwards rebooted: its counters restarted from zero, so
  the reading is a new baseline rather than a false spike;
* the time between readings comes from sysUpTime when both readings carry it (the
  device's own monotonic clock, immune to the console's clock being stepped), else from
  the console's clock; a non-positive or too long interval gives no rate.

Gauges pass through unchanged. ``rollup`` folds raw samples into fixed buckets
(5 minutes by default) with min, avg, max and count, for retention.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

TIMETICKS_RANGE = 2**32  # sysUpTime is TimeTicks (hundredths of a second), wraps at 497 days
DEFAULT_MAX_ELAPSED = 3600.0  # seconds; beyond this a 32-bit counter may have wrapped twice
ROLLUP_SECONDS = 300


class MetricType(StrEnum):
    """How a polled number is read: a running total (counter) or a level (gauge)."""

    COUNTER = "counter"
    GAUGE = "gauge"


class NoRate(StrEnum):
    """Why a reading produced no value."""

    FIRST_SAMPLE = "first sample: baseline only"
    REBOOT = "device rebooted (sysUpTime went backwards): new baseline"
    COUNTER_RESET = "counter went backwards without a plausible wrap: new baseline"
    CLOCK_BACKWARDS = "no time elapsed since the previous sample (clock went backwards)"
    GAP = "too long since the previous sample"
    NOT_A_NUMBER = "value is not a finite number"


@dataclass(frozen=True, slots=True)
class Reading:
    """One polled value of a series, with when it was taken and the device's sysUpTime.

    ``uptime`` is sysUpTime in TimeTicks (hundredths of a second), None when unknown.
    """

    value: float  # pass counters as int: 64-bit values need exact arithmetic
    at: datetime
    uptime: int | None = None


@dataclass(frozen=True, slots=True)
class RateResult:
    """A value to store (``value``), or none and the ``reason``; ``baseline`` is the
    reading to compare the next one with."""

    value: float | None
    reason: NoRate | None
    baseline: Reading
    wrapped: bool = False

    @property
    def ok(self) -> bool:
        return self.value is not None


def _none(reason: NoRate, baseline: Reading) -> RateResult:
    return RateResult(None, reason, baseline)


def _uptime_seconds(previous: Reading, current: Reading) -> float | None:
    """Seconds between two sysUpTime readings; negative means the device rebooted.

    A TimeTicks wrap (after 497 days) is told apart from a reboot: the previous value
    was near the top of the range and the wrapped difference is close to the wall
    clock's elapsed time.
    """
    if previous.uptime is None or current.uptime is None:
        return None
    ticks = current.uptime - previous.uptime
    if ticks < 0:
        wrapped = ticks + TIMETICKS_RANGE
        wall = (current.at - previous.at).total_seconds()
        if wall > 0 and abs(wrapped / 100 - wall) <= max(10.0, wall * 0.5):
            return wrapped / 100
        return -1.0
    return ticks / 100


def counter_rate(
    previous: Reading | None,
    current: Reading,
    *,
    bits: int = 64,
    max_elapsed: float = DEFAULT_MAX_ELAPSED,
) -> RateResult:
    """Per-second rate of a counter between two readings (see the module docstring)."""
    if bits not in (32, 64):
        raise ValueError(f"counter width must be 32 or 64 bits, got {bits}")
    if not math.isfinite(current.value):
        return _none(NoRate.NOT_A_NUMBER, previous or current)  # keep the good baseline
    if previous is None:
        return _none(NoRate.FIRST_SAMPLE, current)
    uptime = _uptime_seconds(previous, current)
    if uptime is not None and uptime < 0:
        return _none(NoRate.REBOOT, current)
    elapsed = uptime if uptime is not None else (current.at - previous.at).total_seconds()
    if elapsed <= 0:
        # A clock stepped back stays back: comparing with the old baseline would give no
        # rate until the clock caught up, so the new reading becomes the baseline.
        return _none(NoRate.CLOCK_BACKWARDS, current)
    if elapsed > max_elapsed:
        return _none(NoRate.GAP, current)
    delta = current.value - previous.value
    wrapped = False
    if delta < 0:
        span = 2**bits  # int arithmetic: a float cannot hold a 64-bit counter exactly
        if delta + span > span // 2:  # more than half the range in one interval: a reset
            return _none(NoRate.COUNTER_RESET, current)
        delta += span
        wrapped = True
    return RateResult(delta / elapsed, None, current, wrapped)


def derive(
    kind: MetricType,
    previous: Reading | None,
    current: Reading,
    *,
    bits: int = 64,
    max_elapsed: float = DEFAULT_MAX_ELAPSED,
) -> RateResult:
    """The value to store for a reading: a rate for counters, the value itself for gauges."""
    if kind is MetricType.COUNTER:
        return counter_rate(previous, current, bits=bits, max_elapsed=max_elapsed)
    if not math.isfinite(current.value):
        return _none(NoRate.NOT_A_NUMBER, current)
    return RateResult(current.value, None, current)


class RateCalculator:
    """Keeps the baseline reading of each series (bounded, least recently used dropped).

    Keys are whatever identifies a series to the poller, e.g. ``(target, "ifHCInOctets.3")``.
    """

    def __init__(self, *, max_series: int = 100_000, max_elapsed: float = DEFAULT_MAX_ELAPSED):
        self._baselines: OrderedDict[Hashable, Reading] = OrderedDict()
        self._max_series = max_series
        self._max_elapsed = max_elapsed

    def __len__(self) -> int:
        return len(self._baselines)

    def update(
        self, key: Hashable, kind: MetricType, current: Reading, *, bits: int = 64
    ) -> RateResult:
        """Derive the value of ``current`` and keep the new baseline for ``key``."""
        result = derive(
            kind, self._baselines.get(key), current, bits=bits, max_elapsed=self._max_elapsed
        )
        self._baselines[key] = result.baseline
        self._baselines.move_to_end(key)
        while len(self._baselines) > self._max_series:
            self._baselines.popitem(last=False)
        return result

    def forget(self, key: Hashable) -> None:
        """Drop a series (a monitor or target removed)."""
        self._baselines.pop(key, None)

    def forget_prefix(self, prefix: tuple[Hashable, ...]) -> int:
        """Drop every series whose tuple key starts with ``prefix``; how many."""
        n = len(prefix)
        doomed = [k for k in self._baselines if isinstance(k, tuple) and k[:n] == prefix]
        for key in doomed:
            del self._baselines[key]
        return len(doomed)


@dataclass(frozen=True, slots=True)
class Bucket:
    """Aggregate of the samples with ``start <= ts < start + seconds``."""

    start: datetime
    seconds: int
    minimum: float
    average: float
    maximum: float
    count: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_start(ts: datetime, seconds: int = ROLLUP_SECONDS) -> datetime:
    """The start of the bucket holding ``ts``: aligned on UTC multiples of ``seconds``."""
    if ts.tzinfo is None:
        raise ValueError("naive datetime: every timestamp must carry a timezone")
    offset = (ts - _EPOCH) // timedelta(seconds=seconds)
    return _EPOCH + timedelta(seconds=offset * seconds)


def rollup(
    samples: Iterable[tuple[datetime, float]], seconds: int = ROLLUP_SECONDS
) -> list[Bucket]:
    """Fold raw ``(ts, value)`` samples into buckets, oldest first; NaN/inf are skipped."""
    if seconds <= 0:
        raise ValueError("bucket size must be positive")
    acc: dict[datetime, list[float]] = {}
    for ts, value in samples:
        if not math.isfinite(value):
            continue
        start = bucket_start(ts, seconds)
        cell = acc.get(start)
        if cell is None:
            acc[start] = [value, value, value, 1.0]
        else:
            cell[0] = min(cell[0], value)
            cell[1] += value
            cell[2] = max(cell[2], value)
            cell[3] += 1
    return [
        Bucket(start, seconds, lo, total / n, hi, int(n))
        for start, (lo, total, hi, n) in sorted(acc.items())
    ]
