"""The event loop the bot runs on: uvloop by default, asyncio's own on request or without it."""

from __future__ import annotations

import asyncio
import sys

import pytest
import uvloop

from rpbot import eventloop
from rpbot.config import Settings


async def _loop_type() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


def test_uvloop_is_the_default_and_asyncio_can_be_chosen() -> None:
    settings = Settings(_env_file=None)
    assert settings.event_loop == "uvloop"
    assert eventloop.run(_loop_type(), settings.event_loop) is uvloop.Loop
    chosen = Settings(RPBOT_EVENT_LOOP="asyncio", _env_file=None)
    assert not issubclass(eventloop.run(_loop_type(), chosen.event_loop), uvloop.Loop)


def test_without_uvloop_installed_asyncios_loop_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if not installed: import fails
    assert eventloop.loop_factory("uvloop") is None
    assert not issubclass(eventloop.run(_loop_type()), uvloop.Loop)


def test_an_unknown_loop_is_refused_and_settings_refuse_it_too() -> None:
    with pytest.raises(ValueError, match="use uvloop or asyncio"):
        eventloop.loop_factory("trio")
    with pytest.raises(ValueError, match="RPBOT_EVENT_LOOP"):
        Settings(RPBOT_EVENT_LOOP="trio", _env_file=None)


def test_the_loop_is_named_for_reports() -> None:
    async def name() -> str:
        return eventloop.loop_name()

    assert eventloop.run(name(), "uvloop") == "uvloop.Loop"
    assert eventloop.run(name(), "asyncio").startswith("asyncio.")
