"""Unit of work: one transaction per use case, its audit entries, and events after commit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opsconductor_desktop import logs
from opsconductor_desktop.domain.events import Action, Changed, Entity
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.bus import EventBus
from opsconductor_desktop.store.database import Database
from opsconductor_desktop.store.models import AuditRow, ChangeCounterRow, table_of


@dataclass
class ServiceContext:
    """What every service needs: the database, the bus, the keyring and who is acting."""

    db: Database
    bus: EventBus
    secrets: SecretStore
    actor: str
    #: change counters as this process last wrote them (so the watcher can skip its own)
    local_counters: dict[str, int] = field(default_factory=dict)


@dataclass
class Transaction:
    """Collects audit entries and change events while a use case runs."""

    session: AsyncSession
    actor: str
    audits: list[dict[str, Any]] = field(default_factory=list)
    events: list[Changed] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def audit(
        self,
        action: str,
        entity: Entity,
        entity_id: uuid.UUID | None,
        summary: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        self.audits.append(
            {
                "id": uuid.uuid4(),
                "at": utcnow(),
                "actor": self.actor,
                "action": action,
                "entity": entity.value,
                "entity_id": entity_id,
                "summary": summary,
                "before": before,
                "after": after,
                "correlation_id": logs.correlation_id(),
            }
        )

    def changed(self, entity: Entity, action: Action, ids: Iterable[uuid.UUID]) -> None:
        self.events.append(Changed(entity, action, tuple(ids)))

    async def flush_bookkeeping(self) -> None:
        """Write the collected audit rows and bump the change counters, in this transaction."""
        if self.audits:
            await self.session.execute(table_of(AuditRow).insert(), self.audits)
        for topic in sorted({e.entity.value for e in self.events}):
            self.counters[topic] = await bump_counter(self.session, topic)


async def bump_counter(session: AsyncSession, topic: str) -> int:
    """Atomically increment a topic's change counter (insert it the first time); new value."""
    stmt = (
        update(ChangeCounterRow)
        .where(ChangeCounterRow.topic == topic)
        .values(counter=ChangeCounterRow.counter + 1, updated_at=utcnow())
        .returning(ChangeCounterRow.counter)
    )
    value = (await session.execute(stmt)).scalar_one_or_none()
    if value is not None:
        return int(value)
    try:
        async with session.begin_nested():
            await session.execute(
                insert(ChangeCounterRow).values(topic=topic, counter=1, updated_at=utcnow())
            )
        return 1
    except IntegrityError:  # another writer inserted it first: increment theirs
        return int((await session.execute(stmt)).scalar_one())


@asynccontextmanager
async def unit_of_work(ctx: ServiceContext) -> AsyncIterator[Transaction]:
    """One transaction; audit and counters written inside it; events published after commit."""
    async with ctx.db.session() as session:
        tx = Transaction(session, ctx.actor)
        yield tx
        await tx.flush_bookkeeping()
    ctx.local_counters.update(tx.counters)
    for event in tx.events:
        ctx.bus.publish(event)
