"""The Alembic migrations build exactly the schema the SQLModel tables describe."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from typer.testing import CliRunner

from rpbot.cli import app
from rpbot.storage import tables as _tables  # noqa: F401
from rpbot.storage.db import Database, alembic_config, upgrade
from tests.storage.conftest import BACKENDS, fresh_database


async def _inspect(url: str, fn: Any) -> Any:
    db = Database(url)
    try:
        async with db.engine.connect() as connection:
            return await connection.run_sync(fn)
    finally:
        await db.dispose()


def _differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), SQLModel.metadata))


def _tables_in(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def test_the_migrated_database_matches_the_tables(migrated_url: str) -> None:
    assert asyncio.run(_inspect(migrated_url, _differences)) == []


def test_the_one_active_run_index_is_partial(migrated_url: str) -> None:
    def indexes(connection: Connection) -> list[Any]:
        return inspect(connection).get_indexes("flow_runs")

    found = {i["name"]: i for i in asyncio.run(_inspect(migrated_url, indexes))}
    index = found["uq_one_active_run"]
    assert index["unique"]
    assert index["column_names"] == ["member_id"]
    where = index.get("dialect_options", {})
    assert "active" in str(where.get("sqlite_where", where.get("postgresql_where")))


def test_there_is_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite:///unused.db"))
    assert len(script.get_heads()) == 1, "migrations branched: merge the heads"


@pytest.mark.parametrize("backend", BACKENDS)
def test_downgrade_to_base_and_up_again(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        command.downgrade(alembic_config(url), "base")
        assert asyncio.run(_inspect(url, _tables_in)) == set()
        upgrade(url, "head")
        expected = {table.name for table in SQLModel.metadata.sorted_tables}
        assert asyncio.run(_inspect(url, _tables_in)) == expected


def test_cli_db_upgrade_reads_database_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(app, ["db", "upgrade"], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "is at revision head" in result.output
    assert asyncio.run(_inspect(url, _differences)) == []


def test_cli_db_upgrade_explains_a_bad_url() -> None:
    result = CliRunner().invoke(app, ["db", "upgrade"], env={"DATABASE_URL": "mysql://x/y"})
    assert result.exit_code == 1
    assert "postgresql://user:password@host:5432/dbname" in result.output
