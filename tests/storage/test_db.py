"""URLs, engines and SQLite connection settings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from rpbot.storage.db import Database, make_engine, normalise_url, safe_url, upgrade
from rpbot.storage.errors import (
    DatabaseLockedError,
    DatabaseURLError,
    MigrationError,
    StorageError,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u:p@h/db?sslmode=require", "postgresql+asyncpg://u:p@h/db?ssl=require"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///./rpbot.db", "sqlite+aiosqlite:///./rpbot.db"),
        ("sqlite:////srv/rpbot/rpbot.db", "sqlite+aiosqlite:////srv/rpbot/rpbot.db"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_normalise_url(given: str, expected: str) -> None:
    assert normalise_url(given) == expected
    assert normalise_url(expected) == expected


@pytest.mark.parametrize(
    "given", ["mysql://u:secret@h/db", "rpbot.db", "", "http://example.org", "sqlite:/x"]
)
def test_other_urls_are_refused_with_the_forms_that_work(given: str) -> None:
    with pytest.raises(DatabaseURLError) as caught:
        normalise_url(given)
    message = str(caught.value)
    assert isinstance(caught.value, StorageError)
    assert "sqlite:///path/to/rpbot.db" in message
    assert "postgresql://user:password@host:5432/dbname" in message
    assert "secret" not in message


def test_safe_url_hides_the_password() -> None:
    assert safe_url("postgresql+asyncpg://u:secret@h/db") == "postgresql+asyncpg://u:***@h/db"
    assert "secret" not in repr(Database("postgresql://u:secret@h/db"))


def test_postgresql_uses_asyncpg() -> None:
    engine = make_engine("postgresql://u@127.0.0.1/db")
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "asyncpg")
    asyncio.run(engine.dispose())


async def _pragmas(db: Database) -> dict[str, object]:
    async with db.engine.connect() as connection:
        return {
            name: (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }


@pytest.mark.asyncio
async def test_sqlite_file_uses_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rpbot.db'}")
    try:
        assert db.url.startswith("sqlite+aiosqlite:///")
        pragmas = await _pragmas(db)
        assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}
        # Every pooled connection gets them, not just the first.
        async with db.engine.connect() as first:
            assert (await first.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
            await first.commit()  # ends BEGIN IMMEDIATE, so the second can begin
            async with db.engine.connect() as second:
                assert (await second.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
                assert await second.get_raw_connection() is not await first.get_raw_connection()
    finally:
        await db.dispose()


@pytest.mark.asyncio
async def test_sqlite_in_memory_skips_wal_but_keeps_foreign_keys() -> None:
    db = Database("sqlite:///:memory:")
    try:
        assert await _pragmas(db) == {
            "journal_mode": "memory",
            "foreign_keys": 1,
            "busy_timeout": 5000,
        }
        await db.create_all()
        async with db.transaction() as repos:
            assert await repos.counters.increment("x") == 1
        async with db.transaction() as repos:
            assert await repos.counters.get("x") == 1
    finally:
        await db.dispose()


@pytest.mark.asyncio
async def test_upgrade_runs_from_async_code_through_a_thread(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rpbot.db'}"
    with pytest.raises(MigrationError, match=r"asyncio\.to_thread\(upgrade, url\)"):
        upgrade(url)
    await asyncio.to_thread(upgrade, url)
    await asyncio.to_thread(upgrade, url)  # already at head: nothing to do
    db = Database(url)
    try:
        async with db.transaction() as repos:
            assert await repos.updates.claim(1, datetime.now(UTC))
    finally:
        await db.dispose()


def test_upgrade_explains_a_bad_revision(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="Use 'head' or a revision id"):
        upgrade(f"sqlite:///{tmp_path / 'rpbot.db'}", "nope")


def test_upgrade_explains_an_unreachable_server() -> None:
    with pytest.raises(MigrationError, match="Check DATABASE_URL") as caught:
        upgrade("postgresql://u:secret@127.0.0.1:1/db")
    assert "secret" not in str(caught.value)


@pytest.mark.asyncio
async def test_a_transaction_waiting_too_long_for_sqlite_says_why(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rpbot.db'}"
    holder, waiter = Database(url), Database(url, busy_timeout_ms=20)
    try:
        await holder.create_all()
        async with holder.transaction() as repos:
            await repos.counters.increment("x")  # holds the write lock until the block ends
            with pytest.raises(DatabaseLockedError, match="Do not open a transaction while"):
                async with waiter.transaction() as other:
                    await other.counters.get("x")
    finally:
        await holder.dispose()
        await waiter.dispose()
