"""The lifecycle of the listening connectors' receivers (webhook, SNMP traps, syslog).

``ReceiverHost.sync`` starts a receiver for every enabled listening connector that has a
factory (``ConnectorService.receiver_factories``), stops those disabled or removed, and
restarts those whose settings changed (the row's version moved). A kind without a factory
is skipped with a logged message and the reason on the connector's row; a receiver that
cannot start (a port taken, a port under 1024 without privilege, a missing token) marks
its connector failing with the receiver's message and the others start regardless. While
receivers run, an upkeep task re-reads the inventory's target index, syncs again and
writes each receiver's counters on its row every ``UPKEEP`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsconductor_desktop import logs
from opsconductor_desktop.domain.connectors import ConnectorState, missing_required
from opsconductor_desktop.domain.errors import OpsError, ValidationError
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.runtime.connectors.receivers import ReceiverSetup
from opsconductor_desktop.runtime.receivers.base import Receiver

if TYPE_CHECKING:
    from opsconductor_desktop.services.connector_records import Loaded
    from opsconductor_desktop.services.connectors import ConnectorService

log = logging.getLogger(__name__)

UPKEEP = 30.0


def scrub(text: str, secrets: Sequence[str]) -> str:
    """A message with every secret value masked (and the ones registered with ``logs``)."""
    return logs.mask(text, secrets)


@dataclass(frozen=True, slots=True)
class ReceiverStatus:
    """What ``start_receivers`` did for one connector."""

    name: str
    kind: str
    outcome: str  # started | running | failed | skipped
    message: str = ""


@dataclass(frozen=True, slots=True)
class _Running:
    id: uuid.UUID
    version: int
    receiver: Receiver


class ReceiverHost:
    """See the module docstring; one per ``ConnectorService``."""

    def __init__(self, service: ConnectorService, *, upkeep: float = UPKEEP) -> None:
        self.service = service
        self.upkeep = upkeep
        self.running: dict[str, _Running] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def receiver(self, name: str) -> Receiver | None:
        found = self.running.get(name)
        return found.receiver if found else None

    async def sync(self) -> list[ReceiverStatus]:
        async with self._lock:
            await self.service.refresh_targets(max_age=0)
            wanted = {c.name: c for c in await self.service.listening()}
            for name, run in list(self.running.items()):
                if name not in wanted or wanted[name].version != run.version:
                    await self._stop(name)
            out: list[ReceiverStatus] = []
            for name, conn in wanted.items():
                kind = conn.manifest.kind.value
                if name in self.running:
                    out.append(ReceiverStatus(name, kind, "running"))
                else:
                    out.append(await self._start(conn))
            if self.running and self._task is None:
                self._task = asyncio.create_task(self._upkeep(), name="connector receivers")
            return out

    async def _start(self, conn: Loaded) -> ReceiverStatus:
        kind = conn.manifest.kind.value
        factory = self.service.receiver_factories.get(kind)
        if factory is None:
            message = f"no {kind} receiver in this build: connector {conn.name} not started"
            log.warning("%s", message)
            await self.service.save_health(
                conn.id, {"state": ConnectorState.UNKNOWN.value, "last_error": message}
            )
            return ReceiverStatus(conn.name, kind, "skipped", message)
        secrets: list[str] = []
        try:
            settings, secrets = await self.service._resolved(conn)
            missing = missing_required(conn.manifest, settings, ())
            if missing:
                raise ValidationError(f"{conn.name} needs {', '.join(missing)}")
            setup = ReceiverSetup(
                conn.name, conn.manifest, settings, self.service.alerts.submit, self.service.targets
            )
            receiver = factory(setup)
            await receiver.start()
        except (OpsError, OSError) as exc:
            message = scrub(str(exc), secrets)
            log.warning("connector %s did not start: %s", conn.name, message)
            await self.service.save_health(
                conn.id,
                {
                    "state": ConnectorState.FAILING.value,
                    "last_error": message[:2000],
                    "last_poll_at": utcnow(),
                    "failures": conn.failures + 1,
                },
            )
            return ReceiverStatus(conn.name, kind, "failed", message)
        self.running[conn.name] = _Running(conn.id, conn.version, receiver)
        now = utcnow()
        await self.service.save_health(
            conn.id,
            {
                "state": ConnectorState.OK.value,
                "last_error": "",
                "last_poll_at": now,
                "last_success_at": now,
                "failures": 0,
            },
        )
        return ReceiverStatus(conn.name, kind, "started")

    async def _stop(self, name: str) -> None:
        run = self.running.pop(name, None)
        if run is None:
            return
        try:
            await run.receiver.stop()
        except (OpsError, OSError) as exc:
            log.warning("connector %s did not stop cleanly: %s", name, exc)
        await self._persist(run)

    async def stop_one(self, name: str) -> None:
        async with self._lock:
            await self._stop(name)

    async def stop(self) -> None:
        """Stop every receiver (their last counters are written) and the upkeep."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        async with self._lock:
            for name in list(self.running):
                await self._stop(name)

    async def _persist(self, run: _Running) -> None:
        counters: dict[str, Any] = run.receiver.counters.to_json()
        try:
            await self.service.save_health(
                run.id,
                {
                    "counters": counters,
                    "last_poll_at": utcnow(),
                    "last_error": str(counters.get("last_error") or "")[:2000],
                },
            )
        except OpsError as exc:
            log.warning("could not write the counters of a receiver: %s", exc)

    async def _upkeep(self) -> None:
        while True:
            await asyncio.sleep(self.upkeep)
            try:
                await self.sync()
                for run in list(self.running.values()):
                    await self._persist(run)
            except OpsError as exc:
                log.warning("connector receivers: %s (retried in %g s)", exc, self.upkeep)
