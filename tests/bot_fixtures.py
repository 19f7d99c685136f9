"""The end-to-end fixtures (emulator, real bot, fake clock) and the storage fixtures (SQLite
always, PostgreSQL when ``RPBOT_TEST_DATABASE_URL`` is set), for a folder's conftest to re-export
with ``from tests.bot_fixtures import *``."""

from __future__ import annotations

from tests.storage.conftest import db, migrated_url
from tests.telegram.conftest import (
    bot,
    clock,
    database,
    emulator,
    family,
    settings,
    sleeps,
    start_bot,
)

__all__ = [
    "bot",
    "clock",
    "database",
    "db",
    "emulator",
    "family",
    "migrated_url",
    "settings",
    "sleeps",
    "start_bot",
]
