"""Event-loop lag probe for benchmarks: how late does a 5 ms timer fire while work runs?

A task sleeps ``interval`` seconds over and over and records, for each wake-up, how much
later than asked it ran. That delay is what a GUI on the same loop would feel (a
repaint, a click) — the figure the goals call "loop lag".

Usage::

    async with LoopLag() as lag, IdleProcessLag() as control:
        await work()
    print(lag.summary())  # "loop lag p50 0.3 ms, p99 4.1 ms, max 9.8 ms (412 samples)"
    print(control.stats)  # the same probe in an idle process meanwhile

The control (``IdleProcessLag``, this file run as a script) has no work of its own: what
it measures is the operating system's scheduling delay while the benchmark loads the
machine (peers included), i.e. the part of the lag that is not the process's own doing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import signal
import sys
import time
from dataclasses import dataclass


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (0.0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass(frozen=True)
class LagStats:
    """Scheduling delay of the probe's wake-ups, in seconds."""

    p50: float
    p99: float
    max: float
    samples: int

    def __str__(self) -> str:
        return (
            f"loop lag p50 {self.p50 * 1000:.1f} ms, p99 {self.p99 * 1000:.1f} ms, "
            f"max {self.max * 1000:.1f} ms ({self.samples} samples)"
        )


class LoopLag:
    """An async context manager that samples the running loop's lag while it is open."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.delays: list[float] = []
        self.times: list[float] = []  # ``loop.time()`` of each wake-up, beside its delay
        # CPU the loop's thread used from one wake-up to the next (``time.thread_time``):
        # the process's own share of a delay, which a busy machine does not inflate
        self.busy: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        cpu = time.thread_time()
        while True:
            asked = loop.time()
            await asyncio.sleep(self.interval)
            woke, was = loop.time(), cpu
            cpu = time.thread_time()
            self.delays.append(max(0.0, woke - asked - self.interval))
            self.times.append(woke)
            self.busy.append(cpu - was)

    async def __aenter__(self) -> LoopLag:
        self.delays = []
        self.times = []
        self.busy = []
        self._task = asyncio.create_task(self._probe(), name="loop-lag probe")
        await asyncio.sleep(0)  # let the probe take its first timestamp
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def stats(self) -> LagStats:
        d = self.delays
        return LagStats(percentile(d, 0.50), percentile(d, 0.99), max(d, default=0.0), len(d))

    def busy_stats(self) -> LagStats:
        """The loop thread's own CPU between wake-ups, as a ``LagStats``."""
        b = self.busy
        return LagStats(percentile(b, 0.50), percentile(b, 0.99), max(b, default=0.0), len(b))

    def summary(self) -> str:
        return str(self.stats())

    __str__ = summary


class IdleProcessLag:
    """Runs the probe in a separate, otherwise idle Python process while open."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.stats: LagStats | None = None
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> IdleProcessLag:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            str(self.interval),
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None
        await self._process.stdout.readline()  # "ready"
        return self

    async def __aexit__(self, *exc: object) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        out, _ = await process.communicate()
        with contextlib.suppress(ValueError, TypeError):
            self.stats = LagStats(**json.loads(out.decode().strip().splitlines()[-1]))

    def __str__(self) -> str:
        return str(self.stats) if self.stats else "no figure"


async def _idle_probe(interval: float) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with LoopLag(interval) as lag:
        print("ready", flush=True)
        await stop.wait()
    print(json.dumps(dataclasses.asdict(lag.stats())), flush=True)


if __name__ == "__main__":
    asyncio.run(_idle_probe(float(sys.argv[1]) if len(sys.argv) > 1 else 0.005))
