"""Security tests: the end-to-end fixtures of tests/telegram (emulator, database, the real
bot), re-exported, and a clean data key ring around every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rpbot.storage import crypto
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
    "emulator",
    "family",
    "settings",
    "sleeps",
    "start_bot",
]


@pytest.fixture(autouse=True)
def no_data_key() -> Iterator[None]:
    """Every test starts and ends with encryption off (the key ring is process-wide)."""
    crypto.configure(None)
    yield
    crypto.configure(None)
