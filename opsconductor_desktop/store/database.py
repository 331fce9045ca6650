"""The one way to reach the database: an async engine with a sized pool and a unit of work.

One function per dialect sets connection options (Home Assistant recorder's idea): SQLite
gets WAL, foreign keys and a busy timeout in a connect hook; PostgreSQL gets a sized pool
with pre-ping. ``session()`` commits on success, rolls back on error and always closes.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from opsconductor_desktop.domain.errors import (
    DatabaseRefusedError,
    DatabaseUnavailableError,
    ValidationError,
)

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalize_url(url: str) -> URL:
    """Accept ``sqlite:///file``, ``postgresql://…`` or a plain path; pick the async driver."""
    text = url.strip()
    if "://" not in text:
        text = f"sqlite:///{Path(text).expanduser()}"
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise ValidationError(f"not a database URL: {redact_url(text)}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise ValidationError(f"unsupported database {backend!r}: use sqlite or postgresql")


def redact_url(url: str | URL) -> str:
    """A URL safe for logs and messages: the password is masked."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparseable URL>"
    return parsed.render_as_string(hide_password=True)


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """What the status bar and ``db current`` show about the database."""

    dialect: str
    location: str

    def __str__(self) -> str:
        return f"{'SQLite' if self.dialect == 'sqlite' else 'PostgreSQL'} {self.location}"


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        cur.close()


def _sqlite_engine(url: URL, echo: bool) -> AsyncEngine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, echo=echo)
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    return engine


def _postgres_engine(url: URL, echo: bool, pool_size: int) -> AsyncEngine:
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max(2, pool_size // 2),
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5, "application_name": "opsconductor-desktop"},
    )


class Database:
    """An async engine plus its unit-of-work scope. Create one per process."""

    def __init__(self, url: str, *, pool_size: int = 5, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(self.url, echo)
        else:
            self.engine = _postgres_engine(self.url, echo, pool_size)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for SQLite, else None."""
        if self.dialect != "sqlite" or not self.url.database or self.url.database == ":memory:":
            return None
        return Path(self.url.database)

    @property
    def info(self) -> DatabaseInfo:
        if self.sqlite_path is not None:
            return DatabaseInfo("sqlite", str(self.sqlite_path))
        host = self.url.host or self.url.query.get("host") or "local socket"
        port = f":{self.url.port}" if self.url.port else ""
        return DatabaseInfo("postgresql", f"{host}{port}/{self.url.database or ''}")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One transaction: commit on success, roll back on any error, always close."""
        async with self._sessions() as session:
            try:
                async with translate_errors(self):
                    yield session
                    await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> None:
        """Check that the database answers; raise ``DatabaseUnavailableError`` if not."""
        from sqlalchemy import text

        async with translate_errors(self), self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def is_corruption(exc: BaseException) -> bool:
    """True when SQLite says the file is not a database or its image is malformed."""
    orig = getattr(exc, "orig", exc)
    text = str(orig).lower()
    return isinstance(orig, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "file is encrypted" in text
    )


@asynccontextmanager
async def translate_errors(db: Database) -> AsyncIterator[None]:
    """Turn driver errors that mean "the database is not usable" into an operator message."""
    try:
        yield
    except OperationalError as exc:
        raise DatabaseUnavailableError(describe_failure(db, exc)) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated or is_corruption(exc):
            raise DatabaseUnavailableError(describe_failure(db, exc)) from exc
        # a constraint, a trigger or a privilege said no: an operator message, not a crash
        # (the services turn the ones they expect, such as duplicates, into their own first)
        raise DatabaseRefusedError(f"the database refused the change: {first_line(exc)}") from exc
    except OSError as exc:
        raise DatabaseUnavailableError(f"{db.info}: {exc.strerror or exc}") from exc


def first_line(exc: BaseException) -> str:
    """The driver's own first line of an error (no SQL, no parameters)."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def describe_failure(db: Database, exc: BaseException) -> str:
    """One line saying why the database failed, without credentials."""
    first = first_line(exc)
    if db.dialect == "sqlite":
        if "readonly" in first or "read-only" in first:
            return f"the database file {db.sqlite_path} is read-only: {first}"
        if is_corruption(exc):
            return f"the database file {db.sqlite_path} is corrupt: {first}"
        return f"cannot use the database file {db.sqlite_path}: {first}"
    return f"cannot reach PostgreSQL at {redact_url(db.url)}: {first}"
