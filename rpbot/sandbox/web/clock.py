"""The sandbox's clock: real time from a chosen start, which the sandbox can move forward.

The bot, the emulator and the sweep all read this one clock, so "Next reminder" simply sets it
to the next due instant and runs the ordinary sweep: no special path for the sandbox.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["SandboxClock", "SettableClock"]


class SettableClock(Protocol):
    """A clock the sandbox can read and move (:class:`rpbot.clock.FakeClock` is one)."""

    def now(self) -> datetime:
        """The current instant (timezone-aware, UTC)."""
        ...

    def set(self, when: datetime) -> None:
        """Jump to ``when``."""
        ...


class SandboxClock:
    """A FakeClock that keeps ticking in real time from wherever it was last set.

    ``ticking=False`` makes it stand still between ``set`` calls, exactly like FakeClock.
    """

    def __init__(
        self,
        start: datetime,
        *,
        ticking: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("SandboxClock needs an aware datetime")
        self._monotonic = monotonic
        self._ticking = ticking
        self._base = start.astimezone(UTC)
        self._since = monotonic()

    def now(self) -> datetime:
        """The sandbox's current instant."""
        if not self._ticking:
            return self._base
        return self._base + timedelta(seconds=self._monotonic() - self._since)

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (and tick on from there)."""
        if when.tzinfo is None:
            raise ValueError("SandboxClock.set needs an aware datetime")
        self._base = when.astimezone(UTC)
        self._since = self._monotonic()

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta``; return the new time."""
        self.set(self.now() + delta)
        return self.now()
