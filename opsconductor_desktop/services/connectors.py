"""Connector use cases: alert sources as declarative manifests, their settings and health.

A connector is a manifest (``domain.connectors``; bundled ones in ``resources/connectors``)
with an operator's settings, stored in ``connectors``. Secret settings go to the keyring
(one entry per connector, ``connector:<id>``), never the database, the audit log or a
message; ``credential`` settings name a stored credential whose secret is read at poll
time. Every change is one audited transaction (topic ``connector``).

``poll`` asks an ``http_poll`` source once (unless its circuit breaker is open), maps the
answer, resolves the source's open alerts that left its list (resolve-on-absence) and
submits everything to the one alert manager as source ``connector:<name>``; its health
(state ok/degraded/failing, last poll, last success, last error, failures, counters) is
written on the row. ``test`` does the same and stores nothing. When a source's breaker
opens, an alert ``connector-health`` says so; the first good poll clears it.

Listening kinds (webhook, snmp_trap, syslog) run as receivers: ``start_receivers`` builds
one per enabled connector through ``receiver_factories`` (kind → factory; ``webhook`` is
built in, the others are plugged in with ``register_receiver``).
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, func, select, update

from opsconductor_desktop.domain.connectors import (
    ConnectorKind,
    ConnectorState,
    Manifest,
    missing_required,
    settings_for,
)
from opsconductor_desktop.domain.credentials import Secret
from opsconductor_desktop.domain.errors import DuplicateError, ValidationError
from opsconductor_desktop.domain.events import Action, Changed, Entity
from opsconductor_desktop.domain.syslog.rules import SOURCE as SYSLOG_SOURCE
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.domain.traps import SOURCE as TRAP_SOURCE
from opsconductor_desktop.runtime.connectors.breaker import BreakerState
from opsconductor_desktop.runtime.connectors.receivers import ReceiverFactory, default_factories
from opsconductor_desktop.runtime.connectors.targets import TargetIndex
from opsconductor_desktop.services.alert_queries import OPEN
from opsconductor_desktop.services.alerts import AlertService
from opsconductor_desktop.services.connector_manifests import bundled_manifests, find_manifest
from opsconductor_desktop.services.connector_polls import (
    health_alerts,
    health_values,
    run_poll,
    state_after,
)
from opsconductor_desktop.services.connector_receivers import ReceiverHost, ReceiverStatus
from opsconductor_desktop.services.connector_records import (
    ConnectorInfo,
    Loaded,
    PollReport,
    breaker_of,
    check_polled,
    connector_row,
    interval_of,
    loaded,
    secret_fields,
    validate_connector_name,
)
from opsconductor_desktop.services.connector_settings import (
    apply_settings,
    check_runnable,
    resolved_settings,
    secret_names,
    secret_values,
)
from opsconductor_desktop.services.credentials import CredentialService
from opsconductor_desktop.services.uow import ServiceContext, unit_of_work
from opsconductor_desktop.store.models import AlertRow, ConnectorRow, TargetRow, table_of

__all__ = ["ConnectorInfo", "ConnectorService", "PollReport", "ReceiverStatus"]

log = logging.getLogger(__name__)

TARGETS_MAX_AGE = 30.0  # seconds a target index is reused
LISTENER_SOURCES = (TRAP_SOURCE, SYSLOG_SOURCE)
_CONNECTORS = table_of(ConnectorRow)


class ConnectorService:
    """See the module docstring."""

    def __init__(
        self,
        ctx: ServiceContext,
        alerts: AlertService,
        credentials: CredentialService,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.ctx = ctx
        self.alerts = alerts
        self.credentials = credentials
        self.transport = transport  # tests may pass one; None: real network
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep  # retry backoff
        self.receiver_factories: dict[str, ReceiverFactory] = default_factories()
        self.targets = TargetIndex()
        self._targets_at = float("-inf")
        self.host = ReceiverHost(self)

    def register_receiver(self, kind: ConnectorKind | str, factory: ReceiverFactory) -> None:
        """Plug in the receiver of a listening kind (``snmp_trap``, ``syslog``)."""
        self.receiver_factories[ConnectorKind(kind).value] = factory

    # ---- queries ------------------------------------------------------------------------

    @staticmethod
    def manifests() -> builtins.list[Manifest]:
        """The bundled manifests (``resources/connectors``)."""
        return bundled_manifests()

    async def list(self) -> builtins.list[ConnectorInfo]:
        async with self.ctx.db.session() as s:
            rows = (await s.scalars(select(ConnectorRow).order_by(ConnectorRow.name))).all()
            pairs = [(loaded(r), r) for r in rows]
            counts = await self._open_counts(s)
        return [self._info(c, r, counts.get(c.name, 0)) for c, r in pairs]

    async def get(self, name: str) -> ConnectorInfo:
        async with self.ctx.db.session() as s:
            row = await connector_row(s, name)
            conn = loaded(row)
            counts = await self._open_counts(s)
            return self._info(conn, row, counts.get(conn.name, 0))

    async def _open_counts(self, session: Any) -> dict[str, int]:
        """Open alerts per connector name: polled and webhook sources by their source
        (``connector:<name>``); trap and syslog alerts (sources ``trap`` and ``syslog``,
        shared by every such listener so that one problem is one alert) by the connector
        named in their details."""
        prefix = len("connector:")
        polled = (
            select(AlertRow.source, func.count())
            .where(OPEN, AlertRow.source.like("connector:%"))
            .group_by(AlertRow.source)
        )
        counts = {src[prefix:]: int(n) for src, n in (await session.execute(polled)).all()}
        by = AlertRow.details["connector"].as_string()
        listened = (
            select(by, func.count()).where(OPEN, AlertRow.source.in_(LISTENER_SOURCES)).group_by(by)
        )
        for name, n in (await session.execute(listened)).all():
            if name:
                counts[name] = counts.get(name, 0) + int(n)
        return counts

    def _counters_of(self, conn: Loaded) -> dict[str, Any]:
        """A listener's counters as they are now when it runs in this process (they are
        written on its row only every ``UPKEEP`` seconds), else as last written."""
        running = self.host.receiver(conn.name)
        return dict(running.counters.to_json()) if running is not None else conn.counters

    def listening_here(self) -> bool:
        """Whether any listener (trap, syslog, webhook) runs in this process."""
        return bool(self.host.running)

    def _info(self, conn: Loaded, row: ConnectorRow, open_alerts: int) -> ConnectorInfo:
        m = conn.manifest
        public = settings_for(m, conn.settings)
        secrets = secret_names(self.ctx.secrets, conn)
        interval = None
        if m.kind is ConnectorKind.HTTP_POLL:
            interval = interval_of(m, public)
        return ConnectorInfo(
            id=conn.id,
            name=conn.name,
            manifest_id=m.id,
            manifest_name=m.name,
            manifest_version=m.version,
            kind=m.kind,
            enabled=conn.enabled,
            state=conn.state,
            last_poll_at=row.last_poll_at,
            last_success_at=row.last_success_at,
            last_error=row.last_error or "",
            failures=conn.failures,
            counters=self._counters_of(conn),
            settings=public,
            secrets_set=tuple(secrets),
            fields=m.settings,
            open_alerts=open_alerts,
            interval=interval,
            next_probe_at=(
                breaker_of(m).next_probe(conn.failures, conn.last_poll_at)
                if m.kind is ConnectorKind.HTTP_POLL
                else None
            ),
            missing=tuple(missing_required(m, public, secrets)),
            version=conn.version,
            description=m.description,
        )

    # ---- changes ------------------------------------------------------------------------

    async def add(
        self,
        manifest: Manifest | str | Path,
        *,
        name: str | None = None,
        settings: Mapping[str, Any] | None = None,
        enabled: bool | None = None,
    ) -> ConnectorInfo:
        """A new connector from a manifest (object, file path or bundled id)."""
        m = manifest if isinstance(manifest, Manifest) else find_manifest(str(manifest))
        name = validate_connector_name(name or m.id)
        on = m.enabled_by_default if enabled is None else enabled
        public, secrets = await apply_settings(self.credentials, m, {}, {}, settings or {})
        check_runnable(m, public, secrets, on)
        cid = uuid.uuid4()
        async with unit_of_work(self.ctx) as tx:
            if await tx.session.scalar(select(ConnectorRow.id).where(ConnectorRow.name == name)):
                raise DuplicateError(f"a connector named {name!r} exists")
            tx.session.add(
                ConnectorRow(
                    id=cid,
                    version=1,
                    name=name,
                    manifest_id=m.id,
                    manifest_version=m.version,
                    kind=m.kind.value,
                    enabled=on,
                    manifest=dict(m.source),
                    settings=public,
                    state=ConnectorState.UNKNOWN.value,
                    last_error="",
                    failures=0,
                    counters={},
                )
            )
            await tx.session.flush()
            after = {"manifest": f"{m.id} {m.version}", "enabled": on, "settings": public}
            after["secrets"] = sorted(secrets)
            tx.audit(
                "create", Entity.CONNECTOR, cid, f"added connector {name} ({m.id})", after=after
            )
            tx.changed(Entity.CONNECTOR, Action.CREATED, [cid])
            if secrets:  # inside the transaction: a keyring failure rolls the row back
                self.ctx.secrets.put(f"connector:{cid}", Secret(secrets))
        return await self.get(name)

    async def set(self, name: str, values: Mapping[str, Any]) -> ConnectorInfo:
        """Change settings (``""`` or None unsets one: its default applies again)."""
        if not values:
            raise ValidationError("nothing to set: give KEY=VALUE")
        async with unit_of_work(self.ctx) as tx:
            row = await connector_row(tx.session, name)
            conn = loaded(row)
            old_secrets = secret_values(self.ctx.secrets, conn)
            public, secrets = await apply_settings(
                self.credentials, conn.manifest, conn.settings, old_secrets, values
            )
            check_runnable(conn.manifest, public, secrets, conn.enabled)
            changed_secrets = sorted(k for k in set(secrets) | set(old_secrets)
                                     if secrets.get(k) != old_secrets.get(k))  # fmt: skip
            tx.audit(
                "update",
                Entity.CONNECTOR,
                row.id,
                f"changed settings of connector {name}: {', '.join(sorted(values))}",
                before={"settings": conn.settings},
                after={"settings": public, "secrets_changed": changed_secrets},
            )
            row.settings = public
            row.updated_at = utcnow()
            tx.changed(Entity.CONNECTOR, Action.UPDATED, [row.id])
            if changed_secrets:
                if secrets:
                    self.ctx.secrets.put(conn.secret_ref, Secret(secrets))
                else:
                    self.ctx.secrets.delete(conn.secret_ref)
        return await self.get(name)

    async def set_enabled(self, name: str, enabled: bool) -> ConnectorInfo:
        async with unit_of_work(self.ctx) as tx:
            row = await connector_row(tx.session, name)
            conn = loaded(row)
            if row.enabled == enabled:
                return await self.get(name)
            if enabled:
                public = settings_for(conn.manifest, conn.settings)
                check_runnable(conn.manifest, public, secret_values(self.ctx.secrets, conn), True)
            row.enabled = enabled
            verb = "enabled" if enabled else "disabled"
            tx.audit(
                "enable" if enabled else "disable",
                Entity.CONNECTOR,
                row.id,
                f"{verb} connector {name}",
                before={"enabled": not enabled},
                after={"enabled": enabled},
            )
            tx.changed(Entity.CONNECTOR, Action.UPDATED, [row.id])
        return await self.get(name)

    async def enable(self, name: str) -> ConnectorInfo:
        return await self.set_enabled(name, True)

    async def disable(self, name: str) -> ConnectorInfo:
        return await self.set_enabled(name, False)

    async def remove(self, name: str) -> int:
        """Delete a connector, its keyring entry; its open alerts are resolved (returned: how
        many), since nothing would ever clear them."""
        await self.host.stop_one(name)
        async with unit_of_work(self.ctx) as tx:
            row = await connector_row(tx.session, name)
            conn = loaded(row)
            tx.audit(
                "delete",
                Entity.CONNECTOR,
                row.id,
                f"removed connector {name}",
                before={"manifest": conn.manifest.id, "settings": conn.settings},
            )
            await tx.session.execute(delete(ConnectorRow).where(ConnectorRow.id == row.id))
            tx.changed(Entity.CONNECTOR, Action.DELETED, [row.id])
        if secret_fields(conn.manifest):
            self.ctx.secrets.delete(conn.secret_ref)
        ids = [a.id for a in await self.alerts.list(status="open", source=conn.source, limit=5000)]
        if ids:
            await self.alerts.resolve(ids, comment=f"connector {name} removed")
        return len(ids)

    # ---- polling ------------------------------------------------------------------------

    async def plan(self) -> dict[str, float]:
        """Enabled ``http_poll`` connectors by name, with their poll intervals."""
        async with self.ctx.db.session() as s:
            rows = (
                await s.scalars(
                    select(ConnectorRow).where(
                        ConnectorRow.enabled.is_(True),
                        ConnectorRow.kind == ConnectorKind.HTTP_POLL.value,
                    )
                )
            ).all()
            conns = [loaded(r) for r in rows]
        out: dict[str, float] = {}
        for conn in conns:
            try:
                out[conn.name] = interval_of(
                    conn.manifest, settings_for(conn.manifest, conn.settings)
                )
            except ValidationError as exc:
                log.warning("connector %s is not scheduled: %s", conn.name, exc)
        return out

    async def _load(self, name: str) -> Loaded:
        async with self.ctx.db.session() as s:
            return loaded(await connector_row(s, name))

    async def poll(self, name: str, *, force: bool = False) -> PollReport:
        """Poll once and submit (see the module docstring). ``force`` polls a disabled
        connector or one whose breaker is open."""
        conn = await self._load(name)
        check_polled(conn)
        if not conn.enabled and not force:
            raise ValidationError(f"connector {name} is disabled: enable it (or poll --force)")
        now = utcnow()
        breaker = breaker_of(conn.manifest)
        if not force and breaker.state(conn.failures, conn.last_poll_at, now) is BreakerState.OPEN:
            probe = breaker.next_probe(conn.failures, conn.last_poll_at)
            return PollReport(
                name,
                ok=False,
                skipped=True,
                error=f"circuit open after {conn.failures} failed polls; "
                f"next try at {probe.isoformat(timespec='seconds') if probe else '?'}",
                state=conn.state,
            )
        report = await self._run(conn)
        batch = list(report.alerts) + list(report.absent)
        state = state_after(conn, report)
        batch += health_alerts(conn, report, state)
        opened = updated = resolved = 0
        if batch:
            result = await self.alerts.submit(batch, now=now)
            opened, updated, resolved = result.opened, result.updated, result.resolved
        await self.save_health(conn.id, health_values(conn, report, state, now))
        return replace(
            report, stored=True, opened=opened, updated=updated, resolved=resolved, state=state
        )

    async def test(self, name: str) -> PollReport:
        """The alerts one poll would produce (and resolve), stored nowhere."""
        conn = await self._load(name)
        check_polled(conn)
        return await self._run(conn)

    async def _run(self, conn: Loaded) -> PollReport:
        return await run_poll(
            conn,
            resolved=self._resolved,
            transport=self.transport,
            sleep=self.sleep,
            refresh_targets=self.refresh_targets,
            alerts=self.alerts,
        )

    async def _resolved(self, conn: Loaded) -> tuple[dict[str, Any], builtins.list[str]]:
        """Settings with secrets and credentials filled in, and the secret values (to mask)."""
        return await resolved_settings(self.ctx.secrets, self.credentials, conn)

    async def save_health(self, connector_id: uuid.UUID, values: Mapping[str, Any]) -> None:
        """Write health columns without touching the row's version (no config change, no
        re-plan); the local bus hears of it."""
        async with self.ctx.db.session() as s:
            await s.execute(
                update(_CONNECTORS).where(_CONNECTORS.c.id == connector_id).values(**values)
            )
        self.ctx.bus.publish(Changed(Entity.CONNECTOR, Action.UPDATED, (connector_id,)))

    async def refresh_targets(self, *, max_age: float = TARGETS_MAX_AGE) -> TargetIndex:
        """The inventory's (name, address) pairs, re-read when older than ``max_age``."""
        if time.monotonic() - self._targets_at < max_age:
            return self.targets
        async with self.ctx.db.session() as s:
            pairs = (await s.execute(select(TargetRow.name, TargetRow.address))).all()
        self.targets.update((str(n), str(a or "")) for n, a in pairs)
        self._targets_at = time.monotonic()
        return self.targets

    # ---- receivers ----------------------------------------------------------------------

    async def start_receivers(self) -> builtins.list[ReceiverStatus]:
        """Start a receiver for every enabled listening connector (idempotent)."""
        return await self.host.sync()

    async def stop_receivers(self) -> None:
        await self.host.stop()

    async def listening(self) -> builtins.list[Loaded]:
        """Enabled connectors of listening kinds."""
        async with self.ctx.db.session() as s:
            rows = (
                await s.scalars(
                    select(ConnectorRow)
                    .where(
                        ConnectorRow.enabled.is_(True),
                        ConnectorRow.kind != ConnectorKind.HTTP_POLL.value,
                    )
                    .order_by(ConnectorRow.name)
                )
            ).all()
            return [loaded(r) for r in rows]
