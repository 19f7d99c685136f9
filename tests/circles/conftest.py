"""Circle tests use the end-to-end fixtures (emulator, bot, FakeClock) and the storage ones."""

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
