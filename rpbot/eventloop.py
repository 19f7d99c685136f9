"""Which asyncio event loop runs the bot: uvloop where it is installed, else asyncio's own.

uvloop (libuv, written in Cython) does the same work as asyncio's loop for less CPU: waking
the loop from aiosqlite's thread, timers, sockets. ``bench/throughput.py`` measured about a
quarter less CPU per update for rpbot on it. It is a dependency everywhere but Windows, where
uvloop does not run and asyncio's loop is used instead. ``RPBOT_EVENT_LOOP=asyncio`` chooses
asyncio's loop anywhere (e.g. to rule uvloop out when chasing a problem).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(kind: str) -> LoopFactory | None:
    """A factory for ``kind``'s loop ("uvloop" or "asyncio"); None means asyncio's own."""
    if kind == "asyncio":
        return None
    if kind != "uvloop":
        raise ValueError(f"unknown event loop {kind!r}; use uvloop or asyncio")
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        log.info("uvloop is not installed here; using asyncio's event loop")
        return None
    factory: LoopFactory = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T], kind: str = "uvloop") -> T:
    """Run ``main`` to completion on a new loop of ``kind`` (like :func:`asyncio.run`)."""
    with asyncio.Runner(loop_factory=loop_factory(kind)) as runner:
        return runner.run(main)


def loop_name() -> str:
    """The running loop's class, e.g. ``uvloop.Loop`` (for benchmark headers and logs)."""
    kind = type(asyncio.get_running_loop())
    return f"{kind.__module__.split('.')[0]}.{kind.__qualname__}"
