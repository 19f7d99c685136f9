"""The one-hop SQLite adapter: the same results as SQLAlchemy's aiosqlite adapter, fewer hops.

The repository contract suite already runs on it (it is the default); these tests pin what it
changes: one call on aiosqlite's thread per statement, and everything a cursor reports
(rows, description, row count, last row id, errors) still right, for both adapters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from rpbot.storage.db import Database, make_engine, upgrade
from rpbot.storage.sqlite_driver import OneHopConnection

pytestmark = pytest.mark.asyncio


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call queued to aiosqlite's thread, by function name."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", type(fn).__name__))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return calls


@pytest_asyncio.fixture(params=[True, False], ids=["one_hop", "aiosqlite"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}", one_hop=request.param)
    async with engine.begin() as connection:
        await connection.exec_driver_sql(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"
        )
    yield engine
    await engine.dispose()


async def test_the_default_engine_uses_one_hop_connections(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    try:
        async with db.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert isinstance(raw.dbapi_connection, OneHopConnection)
    finally:
        await db.dispose()
    plain = Database(f"sqlite+aiosqlite:///{tmp_path / 'e.db'}", one_hop=False)
    try:
        async with plain.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert not isinstance(raw.dbapi_connection, OneHopConnection)
    finally:
        await plain.dispose()


async def test_a_statement_is_one_call_on_the_thread(tmp_path: Path, hops: list[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    counts = {}
    for one_hop in (True, False):
        engine = make_engine(url, one_hop=one_hop)
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")  # warm: connect, pragmas
                hops.clear()
                for _ in range(5):
                    await connection.exec_driver_sql("SELECT 1")
                counts[one_hop] = len(hops)
        finally:
            await engine.dispose()
    assert counts[True] == 5
    assert counts[False] >= 15  # cursor, execute, fetch, close: four hops each


async def test_rows_description_and_empty_results(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('a'), ('b')"))
        result = await connection.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "name"]
        assert [tuple(row) for row in result] == [(1, "a"), (2, "b")]
        empty = await connection.execute(text("SELECT id FROM t WHERE name = 'zzz'"))
        assert empty.first() is None
        assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2


async def test_rowcount_lastrowid_and_executemany(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        inserted = await connection.exec_driver_sql("INSERT INTO t (name) VALUES ('x')")
        assert inserted.lastrowid == 1
        many = await connection.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": f"n{i}"} for i in range(4)]
        )
        assert many.rowcount == 4
        updated = await connection.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 4
        returned = await connection.execute(
            text("INSERT INTO t (name) VALUES ('r') RETURNING id, name")
        )
        assert tuple(returned.one()) == (6, "r")


async def test_errors_are_sqlalchemys_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('dup')"))
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO t (name) VALUES ('dup')"))
        await connection.rollback()
        result = await connection.execute(text("SELECT count(*) FROM t"))
        assert result.scalar_one() == 0  # the first insert was rolled back with the failure


async def test_migrations_and_a_transaction_work_on_the_default(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        async with db.transaction() as repos:
            assert await repos.practitioners.by_telegram_id(1) is None
    finally:
        await db.dispose()
