"""The web sandbox: try the whole bot in a browser as a parent, a child and a practitioner.

``uv run rpbot sandbox`` starts a SQLite database with a demo family, the local Bot API
emulator, the real bot against it, and a page with three chats (see :mod:`.server`).
"""

from __future__ import annotations

from rpbot.sandbox.web.clock import SandboxClock, SettableClock
from rpbot.sandbox.web.personas import Persona
from rpbot.sandbox.web.runtime import SANDBOX_TOKEN, Sandbox, SandboxError
from rpbot.sandbox.web.server import PortInUseError, SandboxServer, make_app
from rpbot.sandbox.web.snapshot import SeedSnapshot

__all__ = [
    "SANDBOX_TOKEN",
    "Persona",
    "PortInUseError",
    "Sandbox",
    "SandboxClock",
    "SandboxError",
    "SandboxServer",
    "SeedSnapshot",
    "SettableClock",
    "make_app",
]
