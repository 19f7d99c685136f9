"""The pure dialogue engine: flows as data in, sessions and events out.

Nothing here performs I/O or reads the clock: callers pass ``now`` and carry out the events.
A test guards that this package imports no Telegram, database, scheduler, asyncio or os.
"""

from rpbot.engine.errors import DialogueError, EngineError, Problem
from rpbot.engine.events import (
    AnswerSaved,
    Button,
    CloseQuestion,
    Event,
    FlowEnded,
    InvalidAnswer,
    Nudged,
    SendMessage,
    SharingChanged,
    UpdateButtons,
    event_to_dict,
)
from rpbot.engine.facts import NATIONS, Facts, Nation
from rpbot.engine.inputs import (
    ButtonInput,
    CommandInput,
    Expired,
    Input,
    MediaInput,
    NudgeDue,
    TextInput,
)
from rpbot.engine.library import Library
from rpbot.engine.model import Flow
from rpbot.engine.runner import resume, start
from rpbot.engine.session import AnswerValue, Session
from rpbot.engine.validation import build_library

__all__ = [
    "NATIONS",
    "AnswerSaved",
    "AnswerValue",
    "Button",
    "ButtonInput",
    "CloseQuestion",
    "CommandInput",
    "DialogueError",
    "EngineError",
    "Event",
    "Expired",
    "Facts",
    "Flow",
    "FlowEnded",
    "Input",
    "InvalidAnswer",
    "Library",
    "MediaInput",
    "Nation",
    "NudgeDue",
    "Nudged",
    "Problem",
    "SendMessage",
    "Session",
    "SharingChanged",
    "TextInput",
    "UpdateButtons",
    "build_library",
    "event_to_dict",
    "resume",
    "start",
]
