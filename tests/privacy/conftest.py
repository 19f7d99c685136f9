"""Privacy tests: the end-to-end fixtures of tests/telegram, the storage backends of
tests/storage, settings a test can extend, and a clean data key ring around every test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rpbot.config import Settings
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.storage import crypto
from rpbot.storage.db import Database
from tests.storage.conftest import db, migrated_url
from tests.telegram.conftest import bot, clock, database, emulator, family, sleeps, start_bot

__all__ = [
    "bot",
    "clock",
    "database",
    "db",
    "emulator",
    "family",
    "migrated_url",
    "sleeps",
    "start_bot",
]


@pytest.fixture(autouse=True)
def no_data_key() -> Iterator[None]:
    """Every test starts and ends with encryption off (the key ring is process-wide)."""
    crypto.configure(None)
    yield
    crypto.configure(None)


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    """More settings for the bot (parametrize this to turn on encryption, retention...)."""
    return {}


@pytest.fixture
def settings(
    emulator: BotApiEmulator, database: Database, extra_settings: dict[str, Any]
) -> Settings:
    return Settings(
        TELEGRAM_BOT_TOKEN=emulator.token,
        TELEGRAM_API_URL=emulator.base_url,
        DATABASE_URL=database.url,
        RPBOT_RATE_PER_CHAT=1000,
        RPBOT_RATE_PER_CHAT_BURST=1000,
        RPBOT_RATE_OVERALL=1000,
        _env_file=None,  # type: ignore[call-arg]
        **extra_settings,
    )
