"""The key and audit commands: generate, check, rotate, and the refusal to run without the key."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rpbot.cli import app
from rpbot.storage import crypto
from rpbot.storage.crypto import DataKeyError
from rpbot.storage.db import Database, upgrade
from tests.privacy.test_encryption import KEY_NEW, KEY_OLD, NOW, seed


def test_malformed_keys_are_refused_without_showing_them() -> None:
    with pytest.raises(DataKeyError, match="key 2 of 2 is not a Fernet key") as refused:
        crypto.configure(f"{KEY_OLD},not-a-key-at-all")
    assert "not-a-key-at-all" not in str(refused.value)
    assert repr(crypto.KeyRing([KEY_OLD, KEY_NEW])) == "KeyRing(2 keys)"


def test_keys_generate_prints_a_working_key() -> None:
    result = CliRunner().invoke(app, ["keys", "generate"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert crypto.KeyRing([key]).decrypt(crypto.KeyRing([key]).encrypt("hi")) == "hi"


def test_rpbot_run_and_keys_check_refuse_without_the_key(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'enc.db'}"
    upgrade(url)

    async def fill() -> None:
        crypto.configure(KEY_OLD)
        db = Database(url)
        try:
            await seed(db)
        finally:
            await db.dispose()
        crypto.configure(None)

    asyncio.run(fill())
    env = {
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": "123456:TEST",
        "TELEGRAM_API_URL": "http://127.0.0.1:9/bot",
    }
    runner = CliRunner()
    for command in (["run"], ["keys", "check"]):
        result = runner.invoke(app, command, env=env)
        assert result.exit_code == 1, result.output
        assert "RPBOT_DATA_KEY is not set" in result.output
    result = runner.invoke(app, ["keys", "check"], env={**env, "RPBOT_DATA_KEY": KEY_OLD})
    assert result.exit_code == 0, result.output
    assert "the key fits" in result.output
    result = runner.invoke(app, ["keys", "rotate"], env={**env, "RPBOT_DATA_KEY": KEY_NEW})
    assert result.exit_code == 1
    assert "None of the keys" in result.output
    assert KEY_NEW not in result.output
    both = f"{KEY_NEW},{KEY_OLD}"
    result = runner.invoke(app, ["keys", "rotate"], env={**env, "RPBOT_DATA_KEY": both})
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 5 value(s)" in result.output
    result = runner.invoke(app, ["keys", "check"], env={**env, "RPBOT_DATA_KEY": KEY_NEW})
    assert result.exit_code == 0, result.output


def test_audit_list_prints_entries_without_texts(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    upgrade(url)

    async def fill() -> None:
        db = Database(url)
        try:
            await seed(db)
            async with db.transaction() as repos:
                await repos.audit.record(NOW, "practitioner", 1, "view_family", "family", 1)
                await repos.audit.record(NOW, "member", 1, "export", "member", 1, "answers=1")
        finally:
            await db.dispose()

    asyncio.run(fill())
    result = CliRunner().invoke(app, ["audit", "list", "--limit", "1"], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "member#1" in lines[0]
    assert "export" in lines[0]
    assert "answers=1" in lines[0]
    assert "shouted" not in result.output
