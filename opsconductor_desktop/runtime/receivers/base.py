"""What every listening alert source shares: counters, flood control, batched submission.

A receiver turns what arrives (a trap, a syslog line, a webhook body) into
``NormalizedAlert`` values and hands them to an ``AlertBatcher``, which submits them to the
one alert manager in batches (through the sink the service gives it). Nothing is queued
without bound: beyond the flood gate's rate, or when the batcher's queue is full, an item
is counted as dropped, and the drops are summarized in one alert per source and window —
never silently lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from opsconductor_desktop.domain.alerts import NormalizedAlert, Severity
from opsconductor_desktop.domain.errors import OpsError

log = logging.getLogger(__name__)

AlertSink = Callable[[Sequence[NormalizedAlert]], Awaitable[Any]]
#: the sending address of a trap or syslog message → the target's name, or None
TargetLookup = Callable[[str], "str | None"]
RECENT_LIMIT = 200  # unmatched messages kept for the operator to look at


class Receiver(Protocol):
    """What the connector service runs for a listening source (trap, syslog, webhook).

    ``start`` binds and returns once listening; a bind failure raises ``OpsError`` with a
    message an operator can act on (e.g. a port under 1024 needs privilege: use a high
    port). ``stop`` closes the listener and flushes the batcher.
    """

    @property
    def counters(self) -> ReceiverCounters: ...

    @property
    def recent(self) -> RecentList: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class ReceiverCounters:
    """Shown in the Connectors pane and persisted with the connector's state."""

    received: int = 0
    matched: int = 0  # turned into an alert by a rule
    unknown: int = 0  # no rule matched (traps: an info alert; syslog: kept in ``recent``)
    rejected: int = 0  # malformed: could not be parsed at all
    dropped: int = 0  # beyond the flood gate or the queue
    last_error: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FloodGate:
    """A token bucket: ``rate`` items per second on average, bursts up to ``burst``."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _at: float = field(init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a flood gate needs a positive rate and a burst of at least 1")
        self._tokens = self.burst
        self._at = self.clock()

    def allow(self) -> bool:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class RecentList:
    """The last ``limit`` unmatched messages (bounded)."""

    def __init__(self, limit: int = RECENT_LIMIT) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=limit)

    def add(self, item: dict[str, Any]) -> None:
        self._items.append(item)

    def items(self) -> list[dict[str, Any]]:
        return list(self._items)


class AlertBatcher:
    """Collects alerts and submits them in batches; a bounded queue, drops counted.

    ``put`` never blocks the receiving protocol: a full queue drops and counts. ``run``
    flushes every ``interval`` seconds (or when ``batch`` alerts wait); ``close`` flushes
    what is left. Floods are summarized: when drops happened in a window, one alert
    keyed ``flood`` says how many; ``extra`` goes into its details (the connector's name).
    """

    def __init__(
        self,
        sink: AlertSink,
        counters: ReceiverCounters,
        *,
        source: str,
        max_queue: int = 10_000,
        batch: int = 1_000,
        interval: float = 0.5,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.sink = sink
        self.extra = dict(extra or {})
        self.counters = counters
        self.source = source
        self.max_queue = max_queue
        self.batch = batch
        self.interval = interval
        self._queue: list[NormalizedAlert] = []
        self._wake = asyncio.Event()
        self._dropped_in_window = 0
        self._closed = False

    def put(self, alert: NormalizedAlert) -> bool:
        if self._closed or len(self._queue) >= self.max_queue:
            self.drop()
            return False
        self._queue.append(alert)
        if len(self._queue) >= self.batch:
            self._wake.set()
        return True

    def drop(self, n: int = 1) -> None:
        """Count items refused (flood gate or full queue); summarized at the next flush."""
        self.counters.dropped += n
        self._dropped_in_window += n

    async def flush(self) -> int:
        batch, self._queue = self._queue, []
        if self._dropped_in_window:
            n, self._dropped_in_window = self._dropped_in_window, 0
            batch.append(
                NormalizedAlert(
                    source=self.source,
                    key="flood",
                    severity=Severity.WARNING,
                    summary=f"{self.source}: flood control dropped {n} message(s)",
                    details={
                        **self.extra,
                        "dropped": n,
                        "dropped_total": self.counters.dropped,
                    },
                )
            )
        if not batch:
            return 0
        try:
            await self.sink(batch)
        except OpsError as exc:  # the database went away: count, say so, keep receiving
            self.counters.dropped += len(batch)
            self.counters.last_error = f"could not store {len(batch)} alert(s): {exc}"
            log.warning("%s: %s", self.source, self.counters.last_error)
            return 0
        return len(batch)

    async def run(self) -> None:
        """Flush until cancelled; a last flush on the way out."""
        try:
            while True:
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation
                # that arrives as the event is set, and this loop would never end
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.interval):
                        await self._wake.wait()
                self._wake.clear()
                await self.flush()
        finally:
            self._closed = True
            await asyncio.shield(self.flush())
