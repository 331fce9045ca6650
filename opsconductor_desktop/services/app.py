"""The composition root: settings → database → services. Every client starts here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from opsconductor_desktop import paths as app_paths
from opsconductor_desktop.config import (
    ResolvedDatabase,
    Settings,
    default_actor,
    load_settings,
    resolve_database,
)
from opsconductor_desktop.paths import AppPaths
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.bus import EventBus
from opsconductor_desktop.services.changes import ChangeWatcher
from opsconductor_desktop.services.credentials import CredentialService
from opsconductor_desktop.services.importing import ImportService
from opsconductor_desktop.services.inventory import InventoryService
from opsconductor_desktop.services.uow import ServiceContext
from opsconductor_desktop.store import migrate
from opsconductor_desktop.store.database import Database, DatabaseInfo

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
    return Core(
        paths=paths,
        settings=settings,
        database=resolved,
        ctx=ctx,
        inventory=InventoryService(ctx),
        credentials=CredentialService(ctx),
        importer=ImportService(ctx),
        watcher=ChangeWatcher(ctx),
    )
