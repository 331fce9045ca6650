"""Noticing changes made by other processes (the CLI, another console) cheaply.

Every committed change bumps a per-topic counter (see ``uow.bump_counter``); a watcher
polls those few rows and publishes ``Changed(external=True)`` events on the bus, so an
open console refreshes within its poll interval. (Team mode will add LISTEN/NOTIFY.)
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from opsconductor_desktop.domain.errors import DatabaseUnavailableError
from opsconductor_desktop.domain.events import Action, Changed, Entity
from opsconductor_desktop.services.uow import ServiceContext
from opsconductor_desktop.store.models import ChangeCounterRow

log = logging.getLogger(__name__)


class ChangeWatcher:
    """Polls the change counters; publishes an event per topic that moved."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._seen: dict[str, int] | None = None

    async def counters(self) -> dict[str, int]:
        async with self.ctx.db.session() as s:
            rows = await s.execute(select(ChangeCounterRow.topic, ChangeCounterRow.counter))
            return {topic: int(counter) for topic, counter in rows}

    async def poll(self) -> list[Changed]:
        """Compare with the last poll; the first poll only takes a baseline."""
        now = await self.counters()
        previous, self._seen = self._seen, now
        if previous is None:
            return []
        events = []
        mine = self.ctx.local_counters
        for topic, counter in sorted(now.items()):
            moved = counter != previous.get(topic) and counter != mine.get(topic)
            if moved and topic in Entity._value2member_map_:
                events.append(Changed(Entity(topic), Action.UPDATED, (), external=True))
        for event in events:
            self.ctx.bus.publish(event)
        return events

    def mark_seen(self, counters: dict[str, int]) -> None:
        self._seen = counters

    async def run(self, interval: float = 1.0) -> None:
        """Poll until cancelled; a database outage is logged once per state change."""
        failing = False
        while True:
            try:
                await self.poll()
                if failing:
                    log.info("database reachable again")
                failing = False
            except DatabaseUnavailableError as exc:
                if not failing:
                    log.warning("change watcher: %s", exc)
                failing = True
            await asyncio.sleep(interval)
