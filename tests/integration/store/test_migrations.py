"""Alembic on both dialects: upgrade from empty, schema equals the models, safety rails."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from opsconductor_desktop.domain.errors import DatabaseUnavailableError, SchemaTooNewError
from opsconductor_desktop.paths import migrations_dir
from opsconductor_desktop.store import migrate
from opsconductor_desktop.store.database import Database
from opsconductor_desktop.store.models import Base


async def test_upgrade_from_empty_matches_models(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert await migrate.current_revision(db) is None
        result = await migrate.upgrade(db, migrations_dir())
        assert result.before is None
        assert result.after == migrate.head_revision(migrations_dir())

        def diff(conn):  # type: ignore[no-untyped-def]
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, Base.metadata)

        async with db.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
        again = await migrate.upgrade(db, migrations_dir())
        assert again.before == again.after  # idempotent
    finally:
        await db.dispose()


async def test_hot_query_indexes_exist(db_url: str) -> None:
    """The junction and the columns panes filter on are indexed (a lesson from reviews)."""
    from sqlalchemy import inspect

    db = Database(db_url)
    try:
        await migrate.upgrade(db, migrations_dir())

        def indexes(conn):  # type: ignore[no-untyped-def]
            insp = inspect(conn)
            return {
                t: {tuple(ix["column_names"]) for ix in insp.get_indexes(t)}
                for t in (
                    "targets",
                    "group_members",
                    "audit_log",
                    "schedules",
                    "alerts",
                    "samples",
                    "sample_rollups",
                    "check_states",
                )
            }

        async with db.engine.connect() as conn:
            found = await conn.run_sync(indexes)
        assert ("target_id",) in found["group_members"]
        for col in ("address", "kind", "vendor", "site", "parent_id"):
            assert (col,) in found["targets"]
        assert ("at",) in found["audit_log"]
        assert ("entity", "entity_id") in found["audit_log"]
        assert ("next_run_at",) in found["schedules"]
        for cols in (
            ("last_seen",),
            ("severity", "last_seen"),
            ("status", "last_seen"),
            ("target_name", "status"),
            ("source", "status"),
            ("fingerprint",),
        ):
            assert cols in found["alerts"], cols
        assert ("ts",) in found["samples"] and ("bucket",) in found["sample_rollups"]
        assert ("target_id",) in found["check_states"]
    finally:
        await db.dispose()


async def test_sqlite_connection_options(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() >= 5000
    finally:
        await db.dispose()


async def test_sqlite_file_copied_aside_before_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(f"sqlite:///{path}")
    try:
        await migrate.upgrade(db, migrations_dir())
        # pretend the file is one revision behind: stamp an older (fake) state
        head = migrate.head_revision(migrations_dir())
        fake_versions = tmp_path / "migrations"
        shutil.copytree(migrations_dir(), fake_versions)
        extra = fake_versions / "versions" / "9999_extra.py"
        extra.write_text(
            f'"""extra"""\nrevision = "9999"\ndown_revision = "{head}"\nbranch_labels = None\n'
            "depends_on = None\n\n\ndef upgrade() -> None:\n    pass\n\n\n"
            "def downgrade() -> None:\n    pass\n"
        )
        result = await migrate.upgrade(db, fake_versions)
        assert result.after == "9999"
        assert result.backup is not None and result.backup.exists()
        assert str(head) in result.backup.name
        # the real code now sees a schema it does not know
        with pytest.raises(SchemaTooNewError, match="newer than this OpsConductor"):
            await migrate.upgrade(db, migrations_dir())
    finally:
        await db.dispose()


async def test_corrupt_sqlite_is_moved_aside_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    garbage = b"this is not an sqlite database" * 100
    path.write_bytes(garbage)
    db = Database(f"sqlite:///{path}")
    with pytest.raises(DatabaseUnavailableError, match="corrupt") as info:
        await migrate.ensure_usable(db, migrations_dir())
    await db.dispose()
    assert "moved to" in str(info.value)
    moved = list(tmp_path.glob("corrupt.db.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_bytes() == garbage
    assert not path.exists()


async def test_unreachable_postgres_is_one_clear_error() -> None:
    db = Database("postgresql://opsc:secretpw@127.0.0.1:9/nowhere")
    with pytest.raises(DatabaseUnavailableError) as info:
        await migrate.ensure_usable(db, migrations_dir())
    await db.dispose()
    message = str(info.value)
    assert "cannot reach PostgreSQL" in message
    assert "secretpw" not in message


def test_revision_graph_agrees_with_alembic() -> None:
    """Start-up reads the graph without importing Alembic; it must agree with Alembic."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config(migrations_dir()))
    graph = migrate.revision_graph(migrations_dir())
    assert set(graph) == {s.revision for s in script.walk_revisions()}
    assert migrate.head_revision(migrations_dir()) == script.get_current_head()
