"""The composition root: settings → database → services. Every client starts here."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from opsconductor_desktop import paths as app_paths
from opsconductor_desktop.config import (
    ResolvedDatabase,
    Settings,
    default_actor,
    load_settings,
    resolve_database,
)
from opsconductor_desktop.domain.credentials import Credential, Secret
from opsconductor_desktop.paths import AppPaths
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.bus import EventBus
from opsconductor_desktop.services.changes import ChangeWatcher
from opsconductor_desktop.services.credentials import CredentialService
from opsconductor_desktop.services.importing import ImportService
from opsconductor_desktop.services.inventory import InventoryService
from opsconductor_desktop.services.uow import ServiceContext
from opsconductor_desktop.store import migrate
from opsconductor_desktop.store.database import Database, DatabaseInfo, normalize_url, redact_url

if TYPE_CHECKING:
    from opsconductor_desktop.services.alerts import AlertService
    from opsconductor_desktop.services.connectors import ConnectorService
    from opsconductor_desktop.services.jobs import JobService
    from opsconductor_desktop.services.monitoring import MonitoringService
    from opsconductor_desktop.services.polling import PollingService

log = logging.getLogger(__name__)


@dataclass
class Core:
    """Everything a client needs, wired once."""

    paths: AppPaths
    settings: Settings
    database: ResolvedDatabase
    ctx: ServiceContext
    inventory: InventoryService
    credentials: CredentialService
    importer: ImportService
    watcher: ChangeWatcher
    _jobs: JobService | None = field(default=None, repr=False)
    _alerts: AlertService | None = field(default=None, repr=False)
    _monitoring: MonitoringService | None = field(default=None, repr=False)
    _polling: PollingService | None = field(default=None, repr=False)
    _connectors: ConnectorService | None = field(default=None, repr=False)

    @property
    def jobs(self) -> JobService:
        """The job service; its drivers (paramiko, pysnmp) load on first use, not at start."""
        if self._jobs is None:
            self._jobs = _job_service(self.ctx, self.paths, self.inventory, self.credentials)
        return self._jobs

    @property
    def alerts(self) -> AlertService:
        """The alert service, with the one alert manager of this process."""
        if self._alerts is None:
            from opsconductor_desktop.services.alerts import AlertService

            self._alerts = AlertService(self.ctx)
        return self._alerts

    @property
    def monitoring(self) -> MonitoringService:
        """Monitor and rule definitions, and the stored metrics."""
        if self._monitoring is None:
            from opsconductor_desktop.services.monitoring import MonitoringService

            self._monitoring = MonitoringService(self.ctx)
        return self._monitoring

    @property
    def polling(self) -> PollingService:
        """The dispatcher with its monitor checks (drivers load on first use)."""
        if self._polling is None:
            from opsconductor_desktop.services.polling import PollingService

            self._polling = PollingService(
                self.ctx,
                self.settings,
                self.monitoring,
                self.jobs,
                self.alerts,
                connectors=self.connectors,
            )
        return self._polling

    @property
    def connectors(self) -> ConnectorService:
        """Alert sources (connector manifests), their polls and their receivers."""
        if self._connectors is None:
            from opsconductor_desktop.services.connectors import ConnectorService

            self._connectors = ConnectorService(self.ctx, self.alerts, self.credentials)
        return self._connectors

    @property
    def bus(self) -> EventBus:
        return self.ctx.bus

    @property
    def db_info(self) -> DatabaseInfo:
        return self.ctx.db.info

    async def db_revision(self) -> str | None:
        return await migrate.current_revision(self.ctx.db)

    async def head_revision(self) -> str | None:
        return migrate.head_revision(app_paths.migrations_dir())

    async def upgrade(self) -> migrate.UpgradeResult:
        return await migrate.upgrade(self.ctx.db, app_paths.migrations_dir())

    async def ping(self) -> None:
        await self.ctx.db.ping()

    async def close(self) -> None:
        if self._connectors is not None:
            await self._connectors.stop_receivers()
        if self._jobs is not None:
            for run_id in self._jobs.executor.active_runs():
                self._jobs.cancel(run_id)
            await self._jobs.executor.ssh.close()
            self._jobs.executor.snmp.close()
        await self.ctx.db.dispose()


async def open_core(
    *,
    home: str | Path | None = None,
    db_url: str | None = None,
    secrets: SecretStore | None = None,
    actor: str | None = None,
    upgrade: bool = True,
) -> Core:
    """Resolve settings and database, upgrade the schema (unless told not to), wire services.

    Raises ``DatabaseUnavailableError`` / ``SchemaTooNewError`` / ``ValidationError`` with
    operator-facing messages; the database handle is disposed on failure.
    """
    paths = AppPaths.resolve(home).ensure()
    settings = load_settings(paths)
    resolved = resolve_database(paths, settings, db_url)
    db = Database(resolved.url, pool_size=settings.pool_size)
    try:
        if upgrade:
            result = await migrate.ensure_usable(db, app_paths.migrations_dir())
            if result.before != result.after:
                log.info(
                    "database upgraded from %s to %s (backup: %s)",
                    result.before,
                    result.after,
                    result.backup,
                )
    except BaseException:
        await db.dispose()
        raise
    ctx = ServiceContext(db, EventBus(), secrets or SecretStore(), actor or default_actor(settings))
    inventory = InventoryService(ctx)
    credentials = CredentialService(ctx)
    return Core(
        paths=paths,
        settings=settings,
        database=resolved,
        ctx=ctx,
        inventory=inventory,
        credentials=credentials,
        importer=ImportService(ctx),
        watcher=ChangeWatcher(ctx),
    )


def _job_service(
    ctx: ServiceContext, paths: AppPaths, inventory: InventoryService, creds: CredentialService
) -> JobService:
    """The one executor with the one SNMP and SSH driver (both start nothing until used)."""
    from opsconductor_desktop.drivers.snmp import SnmpDriver
    from opsconductor_desktop.drivers.ssh import SshDriver
    from opsconductor_desktop.runtime.executor import Executor
    from opsconductor_desktop.runtime.recorder import RunRecorder
    from opsconductor_desktop.services.jobs import JobService

    recorder = RunRecorder(ctx.db)
    executor = Executor(recorder, SnmpDriver(), SshDriver(paths.known_hosts))

    async def secret_of(name: str) -> tuple[Credential, Secret]:
        return await creds.get(name), await creds.secret(name)

    return JobService(ctx, executor, recorder, inventory.estate, secret_of)


async def check_database(url: str) -> str:
    """Try a database URL without using it: connect, ping, read the schema revision.

    Returns a one-line message for the operator (the password never appears in it);
    raises ``DatabaseUnavailableError`` when the database cannot be reached and
    ``ValidationError`` for a malformed or unsupported URL. An SQLite file that does not
    exist yet is not created: the message says it will be on the next start.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not await asyncio.to_thread(path.exists):
            return f"the SQLite file {path} does not exist yet; it will be created on start"
    db = Database(url, pool_size=1)
    try:
        await db.ping()
        revision = await migrate.current_revision(db)
        head = migrate.head_revision(app_paths.migrations_dir())
    finally:
        await db.dispose()
    if revision is None:
        state = "an empty database: the schema will be created on start"
    elif revision == head:
        state = f"schema up to date ({revision})"
    else:
        state = f"schema at {revision}; it will be upgraded to {head} on start"
    return f"connected to {db.info}: {state}"


def redact_database_url(url: str) -> str:
    """A database URL safe to show or log: the password is masked."""
    return redact_url(url)
