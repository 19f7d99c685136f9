"""A text-only runner of the engine: the terminal chat and the golden transcripts use it.

It shows the engine needs no transport. Lines typed by a person become inputs: a bare number
presses that button of the latest question, ``/skip`` ``/back`` ``/stop`` ``/help`` are
commands, ``[photo]`` ``[voice]`` ``[document]`` send media, anything else is text. The
session is serialized to JSON and loaded back between every step, as storage would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rpbot.engine import (
    AnswerSaved,
    AnswerValue,
    Button,
    ButtonInput,
    CloseQuestion,
    CommandInput,
    Event,
    FlowEnded,
    Input,
    InvalidAnswer,
    Library,
    MediaInput,
    SendMessage,
    Session,
    SharingChanged,
    TextInput,
    UpdateButtons,
    resume,
    start,
)
from rpbot.engine.inputs import as_command, as_media_kind

_MEDIA = {"[photo]": "photo", "[voice]": "voice", "[document]": "document"}


@dataclass
class Simulator:
    """One person running one flow, turn by turn."""

    library: Library
    flow_id: str
    context: Mapping[str, str]
    clock: Callable[[], datetime]
    session_json: str = ""
    buttons: tuple[Button, ...] = ()
    prompt: int | None = None
    answers: dict[str, dict[str, AnswerValue]] = field(default_factory=dict)
    status: str = "active"
    media_count: int = 0

    def begin(self) -> list[Event]:
        """Start the flow; return the first events."""
        session, events = start(
            self.library[self.flow_id], self.context, self.clock(), self.library
        )
        return self._keep(session, events)

    @property
    def finished(self) -> bool:
        """True once the flow has ended, whatever the status."""
        return self.status != "active"

    def to_input(self, line: str) -> Input:
        """Interpret one typed line (see the module docstring)."""
        stripped = line.strip()
        command = as_command(stripped[1:].lower()) if stripped.startswith("/") else None
        if command is not None:
            return CommandInput(command)
        if stripped.lower() in _MEDIA:
            self.media_count += 1
            kind = as_media_kind(_MEDIA[stripped.lower()])
            return MediaInput(kind, f"sim-{kind}-{self.media_count}")
        if stripped.isdigit() and 1 <= int(stripped) <= len(self.buttons):
            return ButtonInput(self.buttons[int(stripped) - 1].value, self.prompt)
        return TextInput(line)

    def send(self, line: str) -> list[Event]:
        """Feed one typed line; return the engine's events."""
        return self.feed(self.to_input(line))

    def feed(self, given: Input) -> list[Event]:
        """Feed one input; return the engine's events."""
        session = Session.from_json(self.session_json)
        flow = self.library[session.flow_id]
        session, events = resume(flow, session, given, self.clock(), self.library)
        return self._keep(session, events)

    def _keep(self, session: Session, events: list[Event]) -> list[Event]:
        self.session_json = session.to_json()
        for event in events:
            if isinstance(event, SendMessage) and event.buttons:
                self.buttons, self.prompt = event.buttons, event.prompt
            elif isinstance(event, UpdateButtons):
                self.buttons = event.buttons
            elif isinstance(event, AnswerSaved):
                self.answers.setdefault(event.flow_id, {})[event.name] = event.value
            elif isinstance(event, FlowEnded):
                self.status = event.status
        return events


def transcript_lines(events: list[Event], *, verbose: bool) -> list[str]:
    """Events as the lines a terminal shows; ``verbose`` adds saved answers and endings."""
    lines: list[str] = []
    for event in events:
        if isinstance(event, SendMessage):
            text = event.text.splitlines() or [""]
            lines.append(f"bot: {text[0]}")
            lines += [f"     {t}" if t else "" for t in text[1:]]
            lines += _button_lines(event.buttons)
        elif isinstance(event, UpdateButtons):
            lines += _button_lines(event.buttons)
        elif isinstance(event, CloseQuestion) and event.answer:
            lines.append(f"     → {event.answer}")
        elif verbose and isinstance(event, AnswerSaved):
            value = json.dumps(event.value, ensure_ascii=False)
            lines.append(f"     (saved {event.flow_id}.{event.name} = {value}, {event.share})")
        elif verbose and isinstance(event, SharingChanged):
            lines.append(f"     (answers of {event.flow_id} now shared: {event.share})")
        elif verbose and isinstance(event, InvalidAnswer):
            lines.append(f"     (not usable: {event.reason})")
        elif isinstance(event, FlowEnded):
            lines.append(f"(flow {event.status})")
    return lines


def _button_lines(buttons: tuple[Button, ...]) -> list[str]:
    return [f"     [{i}] {b.label}" for i, b in enumerate(buttons, start=1)]
