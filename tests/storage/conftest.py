"""Storage fixtures: a freshly migrated database per backend, emptied before each test.

SQLite (a temp file) always runs. PostgreSQL runs when ``RPBOT_TEST_DATABASE_URL`` points at a
server where the user may create databases: each test session makes its own database
``rpbot_test_<random>`` and drops it afterwards, so runs repeat and never touch other data.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from rpbot.storage.db import Database, normalise_url, upgrade

PG_ENV = "RPBOT_TEST_DATABASE_URL"
PG_SKIP_REASON = (
    f"PostgreSQL not configured: set {PG_ENV}=postgresql://postgres@127.0.0.1:5432/test "
    "(a user who may CREATE DATABASE) to run the storage tests on PostgreSQL too"
)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not os.environ.get(PG_ENV), reason=PG_SKIP_REASON),
    ),
]


async def _admin(url: str, sql: str) -> None:
    engine = create_async_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(sql)
    finally:
        await engine.dispose()


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database on ``backend``, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'rpbot-{uuid.uuid4().hex[:8]}.db'}"
        return
    server = os.environ[PG_ENV]
    name = f"rpbot_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(normalise_url(server)).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database per backend for the whole session, built by the Alembic migrations."""
    with fresh_database(request.param, tmp_path_factory.mktemp("storage")) as url:
        upgrade(url)
        yield url


async def empty_tables(db: Database) -> None:
    """Delete every row (keeping the schema and Alembic's version)."""
    async with db.engine.begin() as connection:
        names = await connection.run_sync(lambda c: inspect(c).get_table_names())
        names = [name for name in names if name != "alembic_version"]
        if connection.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in names)
            await connection.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        else:
            # Checked at commit, when every table is empty, so the order does not matter.
            await connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            for name in names:
                await connection.exec_driver_sql(f'DELETE FROM "{name}"')


@pytest_asyncio.fixture
async def db(migrated_url: str) -> AsyncIterator[Database]:
    """A :class:`Database` on an empty, migrated schema; disposed after the test."""
    database = Database(migrated_url)
    await empty_tables(database)
    try:
        yield database
    finally:
        await database.dispose()
