"""The sandbox: a local Telegram Bot API emulator and the people who talk to the bot through it.

Names are imported lazily so ``python -m rpbot.sandbox.emulator`` runs the module cleanly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rpbot.sandbox.client import FakeGroup, FakeUser
    from rpbot.sandbox.emulator import BotApiEmulator
    from rpbot.sandbox.rate_limit import RateLimit
    from rpbot.sandbox.records import (
        ApiError,
        CallbackAnswer,
        Edit,
        EmulatorStats,
        SentMessage,
    )
    from rpbot.sandbox.remote import RemoteEmulator, RemoteUser

__all__ = [
    "ApiError",
    "BotApiEmulator",
    "CallbackAnswer",
    "Edit",
    "EmulatorStats",
    "FakeGroup",
    "FakeUser",
    "RateLimit",
    "RemoteEmulator",
    "RemoteUser",
    "SentMessage",
]

_HOMES = {
    "ApiError": "records",
    "BotApiEmulator": "emulator",
    "CallbackAnswer": "records",
    "Edit": "records",
    "EmulatorStats": "records",
    "FakeGroup": "client",
    "FakeUser": "client",
    "RateLimit": "rate_limit",
    "RemoteEmulator": "remote",
    "RemoteUser": "remote",
    "SentMessage": "records",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
