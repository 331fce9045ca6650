"""The circuit breaker of a polled source, computed from its persisted health.

Closed while the source answers; **open** after ``failures`` consecutive failed polls (no
request is sent); **half-open** once ``cooldown`` seconds have passed since the last
attempt: the next poll is a probe — success closes the breaker, failure opens it for
another cool-down. The state is a function of the connector row (``failures``,
``last_poll_at``), so it survives restarts and holds across consoles sharing a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from opsconductor_desktop.domain.connectors import ConnectorState


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass(frozen=True, slots=True)
class CircuitBreaker:
    failures: int = 3
    cooldown: float = 120.0

    def state(self, failures: int, last_attempt: datetime | None, now: datetime) -> BreakerState:
        if failures < self.failures or last_attempt is None:
            return BreakerState.CLOSED
        if now - last_attempt >= timedelta(seconds=self.cooldown):
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def next_probe(self, failures: int, last_attempt: datetime | None) -> datetime | None:
        if failures < self.failures or last_attempt is None:
            return None
        return last_attempt + timedelta(seconds=self.cooldown)

    def health(self, failures: int, *, item_errors: bool = False) -> ConnectorState:
        """The connector's state after a poll: failing once the breaker opens."""
        if failures >= self.failures:
            return ConnectorState.FAILING
        if failures or item_errors:
            return ConnectorState.DEGRADED
        return ConnectorState.OK
