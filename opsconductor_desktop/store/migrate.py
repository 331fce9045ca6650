"""Schema migrations run programmatically: at start-up and via ``opsconductor db upgrade``.

Before an SQLite file is upgraded it is copied aside; a schema newer than this code is
refused with a clear message; a corrupt SQLite file is moved aside, never overwritten.
"""

from __future__ import annotations

import ast
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from opsconductor_desktop.domain.errors import DatabaseUnavailableError, SchemaTooNewError
from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.store.database import Database, translate_errors

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic itself (≈140 ms to import) is loaded only when an upgrade must run; the start-up
# check reads the revision graph from the scripts' own assignments (see ``revision_graph``).


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    """What an upgrade did: revisions before and after, and any backup made."""

    before: str | None
    after: str | None
    backup: Path | None


def alembic_config(script_location: Path) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    return cfg


def revision_graph(script_location: Path) -> dict[str, tuple[str, ...]]:
    """``revision -> down revisions`` of every script, read without importing Alembic.

    Each script assigns ``revision`` and ``down_revision`` literals at module level (the
    template makes sure of it); a test checks this agrees with Alembic's own reading.
    """
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted((script_location / "versions").glob("*.py")):
        values = _module_literals(path, ("revision", "down_revision"))
        rev, down = values.get("revision"), values.get("down_revision")
        if not isinstance(rev, str):
            continue
        if isinstance(down, str):
            graph[rev] = (down,)
        elif isinstance(down, tuple | list):
            graph[rev] = tuple(str(d) for d in down)
        else:
            graph[rev] = ()
    return graph


def _module_literals(path: Path, names: tuple[str, ...]) -> dict[str, object]:
    """Literal values assigned to ``names`` at a module's top level."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names:
                found[target.id] = ast.literal_eval(value)
    return found


def head_revision(script_location: Path) -> str | None:
    graph = revision_graph(script_location)
    referenced = {d for downs in graph.values() for d in downs}
    heads = sorted(set(graph) - referenced)
    if len(heads) > 1:
        raise RuntimeError(f"migrations have several heads: {heads}")
    return heads[0] if heads else None


def _current(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (None for an empty database)."""
    async with translate_errors(db), db.engine.connect() as conn:
        return await conn.run_sync(_current)


def _check_known(script_location: Path, revision: str | None) -> None:
    if revision is None:
        return
    if revision not in revision_graph(script_location):
        raise SchemaTooNewError(
            f"the database schema ({revision}) is newer than this OpsConductor "
            f"(head {head_revision(script_location)}); upgrade OpsConductor to use it"
        )


def move_corrupt_aside(path: Path) -> Path:
    """Rename a corrupt SQLite file (and its WAL/SHM files) out of the way; return the new path."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target


def _backup_sqlite(path: Path, revision: str | None) -> Path:
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{revision or 'empty'}-{stamp}.bak")
    shutil.copy2(path, target)
    return target


async def upgrade(db: Database, script_location: Path) -> UpgradeResult:
    """Bring the schema to head; copy an existing SQLite file aside first."""
    before = await current_revision(db)
    _check_known(script_location, before)
    head = head_revision(script_location)
    if before == head:
        return UpgradeResult(before, before, None)
    backup = None
    path = db.sqlite_path
    if path is not None and before is not None and path.exists():
        await db.dispose()  # let the copy see a checkpointed file
        backup = _backup_sqlite(path, before)
    from alembic import command

    cfg = alembic_config(script_location)

    def run(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

    async with translate_errors(db), db.engine.begin() as conn:
        await conn.run_sync(run)
    return UpgradeResult(before, await current_revision(db), backup)


async def ensure_usable(db: Database, script_location: Path) -> UpgradeResult:
    """Start-up path: upgrade, turning an unreadable SQLite file into a clear error.

    A corrupt file is moved aside (never overwritten) and the error says where it went.
    """
    try:
        return await upgrade(db, script_location)
    except DatabaseUnavailableError as exc:
        path = db.sqlite_path
        if path is not None and "corrupt" in str(exc) and path.exists():
            await db.dispose()
            moved = move_corrupt_aside(path)
            raise DatabaseUnavailableError(
                f"the database file {path} is corrupt; it was moved to {moved} and a new "
                "empty database will be created on the next start"
            ) from exc
        raise


def _main(argv: list[str]) -> int:
    """Developer entry point: ``python -m opsconductor_desktop.store.migrate revision -m MSG``."""
    import argparse
    import asyncio
    import tempfile

    from alembic import command

    parser = argparse.ArgumentParser(prog="migrate")
    sub = parser.add_subparsers(dest="cmd", required=True)
    rev = sub.add_parser("revision")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[2] / "migrations"
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/rev.db")

        async def go() -> None:
            await upgrade(db, root)
            cfg = alembic_config(root)

            def run(conn: Connection) -> None:
                cfg.attributes["connection"] = conn
                command.revision(cfg, message=args.message, autogenerate=True)

            async with db.engine.begin() as conn:
                await conn.run_sync(run)
            await db.dispose()

        asyncio.run(go())
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
