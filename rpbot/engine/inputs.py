"""What can happen to a running flow: people's messages, presses and commands, and time.

Adapters turn Telegram updates (or terminal lines, or scheduler ticks) into these neutral
inputs. A reminder, a nudge and an expiry are inputs like a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Command = Literal["skip", "back", "stop", "help"]
COMMANDS: tuple[Command, ...] = ("skip", "back", "stop", "help")
MediaKind = Literal["photo", "voice", "document", "other"]


def as_command(name: str) -> Command | None:
    """The global command called ``name`` (without the slash), if it is one."""
    for command in COMMANDS:
        if command == name:
            return command
    return None


def as_media_kind(name: str | None) -> MediaKind:
    """A media kind the engine knows, or ``other``."""
    for kind in ("photo", "voice", "document"):
        if kind == name:
            return kind
    return "other"


@dataclass(frozen=True, slots=True)
class TextInput:
    """Free text typed by the person."""

    text: str


@dataclass(frozen=True, slots=True)
class ButtonInput:
    """A button pressed, by value; ``prompt`` is the question number the button belonged to.

    ``prompt`` of ``None`` means "the current question" (used by the terminal simulator).
    """

    value: str
    prompt: int | None = None


@dataclass(frozen=True, slots=True)
class MediaInput:
    """A photo, voice note or document, by the transport's file id, with its caption."""

    kind: MediaKind
    file_id: str
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class CommandInput:
    """A global command: skip, back, stop or help."""

    command: Command


@dataclass(frozen=True, slots=True)
class NudgeDue:
    """The flow has waited ``nudge_after`` for an answer."""


@dataclass(frozen=True, slots=True)
class Expired:
    """The flow has passed ``expires_after``."""


Input = TextInput | ButtonInput | MediaInput | CommandInput | NudgeDue | Expired
