"""Shared fixtures: isolated app folders, an in-memory keyring, SQLite and real PostgreSQL.

Store and service tests take ``db_url`` and run once per dialect: SQLite in a temp file and
PostgreSQL from ``pgserver`` (a real server started from pip), or the server given with
``--dburl``. No test touches the user's real folders or keyring.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import keyring
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from opsconductor_desktop.memkeyring import MemoryKeyring
from opsconductor_desktop.secrets import SecretStore


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--dburl",
        default=None,
        help="PostgreSQL URL of a server whose databases the tests may create and drop "
        "(default: start one with pgserver)",
    )


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own home folder and an in-memory keyring."""
    monkeypatch.setenv("OPSCONDUCTOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("OPSCONDUCTOR_DB_URL", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def pg_admin_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a PostgreSQL server for the whole session (pgserver unless --dburl)."""
    given = request.config.getoption("--dburl")
    if given:
        yield given
        return
    import pgserver

    root = Path(tempfile.mkdtemp(prefix="opsc-pg-"))
    server = pgserver.get_server(root / "pgdata", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def _sync_pg(url: str) -> sa.Engine:
    return sa.create_engine(
        make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"opsc_test_{uuid.uuid4().hex[:12]}"
    admin = _sync_pg(pg_admin_url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'opsc.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on both dialects."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return Path(os.environ["OPSCONDUCTOR_HOME"])


@pytest.fixture
async def core(db_url: str, home: Path) -> AsyncIterator[object]:
    from opsconductor_desktop.services.app import open_core

    c = await open_core(home=home, db_url=db_url, secrets=SecretStore(), actor="tester")
    try:
        yield c
    finally:
        await c.close()
