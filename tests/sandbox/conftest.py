"""Fixtures for the Bot API emulator tests: a running emulator and a PTB Bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Bot

from rpbot.sandbox import BotApiEmulator
from rpbot.telegram.transport import AiohttpRequest


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns on every int time period (e.g. RetryAfter.retry_after) unless opted in to
    # timedelta; under -W error that warning would replace the exception we want to see.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """A started emulator on a free port, stopped after the test."""
    async with BotApiEmulator() as emu:
        yield emu


@pytest_asyncio.fixture(params=["httpx", "aiohttp"])
async def bot(emulator: BotApiEmulator, request: pytest.FixtureRequest) -> AsyncIterator[Bot]:
    """A real PTB Bot talking to the emulator (no Application, no polling), once with PTB's own
    httpx client and once with rpbot's aiohttp transport."""
    transport = AiohttpRequest() if request.param == "aiohttp" else None
    async with Bot(
        emulator.token,
        base_url=emulator.base_url,
        base_file_url=emulator.base_file_url,
        request=transport,
    ) as ptb_bot:
        yield ptb_bot
