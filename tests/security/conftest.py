"""Security tests: the end-to-end fixtures (see tests/bot_fixtures.py) and a clean data key ring
around every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rpbot.storage import crypto
from tests.bot_fixtures import *  # noqa: F403  (the end-to-end and storage fixtures)


@pytest.fixture(autouse=True)
def no_data_key() -> Iterator[None]:
    """Every test starts and ends with encryption off (the key ring is process-wide)."""
    crypto.configure(None)
    yield
    crypto.configure(None)
