"""The async engine, transactions that hand out repositories, and migrations.

SQLite (the embedded default) and PostgreSQL (for scale-out) are both first-class. On SQLite
every transaction starts with ``BEGIN IMMEDIATE``: writers queue on ``busy_timeout`` instead of
failing with "database is locked" half-way through, which also gives a read-then-write
transaction the same guarantee ``SELECT ... FOR UPDATE`` gives on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from rpbot.storage import sqlite_driver
from rpbot.storage import tables as _tables  # noqa: F401  (registers the tables)
from rpbot.storage.errors import (
    DatabaseLockedError,
    DatabaseURLError,
    MigrationError,
    StorageError,
)
from rpbot.storage.repos import Repos

__all__ = [
    "MIGRATIONS_DIR",
    "Database",
    "StorageError",
    "alembic_config",
    "make_engine",
    "normalise_url",
    "safe_url",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_SYNC_TO_ASYNC = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}

_URL_HELP = (
    "use sqlite:///path/to/rpbot.db (or sqlite+aiosqlite:///...) for the embedded database, "
    "or postgresql://user:password@host:5432/dbname (or postgres://, postgresql+psycopg://, "
    "postgresql+asyncpg://) for PostgreSQL"
)


def normalise_url(url: str) -> str:
    """Turn a SQLite or PostgreSQL URL into its async-driver form, or raise StorageError."""
    scheme, sep, rest = url.strip().partition("://")
    async_scheme = _SYNC_TO_ASYNC.get(scheme.lower()) if sep else None
    if async_scheme is None:
        shown = f"scheme '{scheme}'" if sep else "a value that is not a URL"
        raise DatabaseURLError(f"DATABASE_URL has {shown}; {_URL_HELP}.")
    normalised = f"{async_scheme}://{rest}"
    if async_scheme == "postgresql+asyncpg" and "sslmode=" in rest:
        # libpq spells it sslmode; asyncpg takes the same values as ssl.
        parsed = make_url(normalised)
        mode = parsed.query.get("sslmode")
        if isinstance(mode, str):
            parsed = parsed.difference_update_query(["sslmode"]).update_query_dict({"ssl": mode})
            normalised = parsed.render_as_string(hide_password=False)
    return normalised


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _is_memory(url: str) -> bool:
    database = make_url(url).database or ""
    return database == "" or ":memory:" in database or "mode=memory" in url


def make_engine(url: str, *, busy_timeout_ms: int = 5000, one_hop: bool = True) -> AsyncEngine:
    """An async engine for a SQLite or PostgreSQL URL, with rpbot's connection settings.

    ``one_hop``: on SQLite, run each statement in one hop to aiosqlite's thread
    (:mod:`rpbot.storage.sqlite_driver`); False keeps SQLAlchemy's aiosqlite adapter as it is.
    """
    url = normalise_url(url)
    if url.startswith("postgresql"):
        return create_async_engine(
            url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
        )
    memory = _is_memory(url)
    # A file database keeps a small pool; busy_timeout makes writers queue, not fail.
    options: dict[str, Any] = {} if memory else {"pool_size": 5, "max_overflow": 5}
    # hide_parameters: SQL errors must never carry people's words into logs.
    if one_hop:
        options["module"] = sqlite_driver.dbapi()  # one thread hop per statement, not four
    engine = create_async_engine(url, hide_parameters=True, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take BEGIN away from the sqlite3 driver (it skips it before SELECT); see _on_begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL survives a crashed or killed process (kill -9) intact;
                # only an OS crash or power cut may lose the last commits. It turns each
                # commit's fsync (~4 ms here) into a WAL append, SQLite's advice for WAL.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """One database: an engine plus transactions that hand out :class:`Repos`."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000, one_hop: bool = True) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, busy_timeout_ms=busy_timeout_ms, one_hop=one_hop)
        self._busy_timeout_ms = busy_timeout_ms
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        # SQLite: every transaction is a writer (BEGIN IMMEDIATE), so this process queues them
        # itself, first come first served. Left to busy_timeout, waiters poll with sleeps of up
        # to 100 ms while the lock sits free or goes to a newcomer: long, unfair waits.
        self._queue_writers = self.url.startswith("sqlite")
        self._writer_lock: asyncio.Lock | None = None
        self._writer_lock_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"Database({safe_url(self.url)!r})"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repos]:
        """One transaction: commit on normal exit, roll back on an exception.

        On SQLite a transaction holds the database's write lock from its first statement, so
        never open a second transaction while one is open in the same task: it would wait
        for the first one, which waits for it.
        """
        async with self._writer_turn():
            try:
                async with self._sessions() as session, session.begin():
                    yield Repos(session)
            except OperationalError as exc:
                if "database is locked" not in str(exc.orig):
                    raise
                raise self._locked_error() from exc

    @asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        """On SQLite, wait (in order, at most busy_timeout) until no other transaction of this
        Database is open; other processes still meet SQLite's own lock and busy_timeout."""
        if not self._queue_writers:
            yield
            return
        loop = asyncio.get_running_loop()
        if self._writer_lock is None or self._writer_lock_loop is not loop:
            self._writer_lock, self._writer_lock_loop = asyncio.Lock(), loop
        lock = self._writer_lock
        try:
            async with asyncio.timeout(self._busy_timeout_ms / 1000):
                await lock.acquire()
        except TimeoutError:
            raise self._locked_error() from None
        try:
            yield
        finally:
            lock.release()

    def _locked_error(self) -> DatabaseLockedError:
        return DatabaseLockedError(
            f"SQLite stayed locked by another transaction for over {self._busy_timeout_ms} "
            "ms. Do not open a transaction while another is open in the same task; keep "
            "transactions short (no network calls inside); for many workers use PostgreSQL."
        )

    async def create_all(self) -> None:
        """Create every table directly (tests and development only; use upgrade() otherwise)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def alembic_config(url: str) -> Config:
    """An Alembic ``Config`` for rpbot's packaged migrations and this database URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["url"] = normalise_url(url)
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (synchronous; from async code use asyncio.to_thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise MigrationError(
            "upgrade() runs its own event loop; from async code call "
            "`await asyncio.to_thread(upgrade, url)`"
        )
    config = alembic_config(url)
    try:
        command.upgrade(config, revision)
    except CommandError as exc:
        raise MigrationError(
            f"Cannot migrate {safe_url(config.attributes['url'])} to '{revision}': {exc}. "
            "Use 'head' or a revision id from rpbot/storage/migrations/versions/."
        ) from exc
    except (OSError, DBAPIError) as exc:
        raise MigrationError(
            f"Cannot migrate {safe_url(config.attributes['url'])}: {exc}. Check DATABASE_URL, "
            "that the database server is running, and that the user may create tables."
        ) from exc
