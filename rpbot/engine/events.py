"""What the engine asks its caller to do or record. The engine performs no effects itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rpbot.engine.model import AskType, ShareLevel
from rpbot.engine.session import AnswerValue

#: Button values that stand for a global command rather than an answer.
SKIP_VALUE = "/skip"
STOP_VALUE = "/stop"
DONE_VALUE = "/done"

MessageKind = Literal["say", "question", "reprompt", "nudge", "info", "end", "summary"]


@dataclass(frozen=True, slots=True)
class Button:
    """One inline button: the value sent back when pressed, and its label."""

    value: str
    label: str
    selected: bool = False


@dataclass(frozen=True, slots=True)
class SendMessage:
    """Send a message. ``prompt`` is set when the message is a question awaiting an answer."""

    text: str
    kind: MessageKind = "say"
    buttons: tuple[Button, ...] = ()
    prompt: int | None = None
    ask: AskType | None = None


@dataclass(frozen=True, slots=True)
class UpdateButtons:
    """Redraw the buttons of question ``prompt`` (a multi question's ticks changed)."""

    prompt: int
    buttons: tuple[Button, ...]


@dataclass(frozen=True, slots=True)
class CloseQuestion:
    """Question ``prompt`` is over: show ``answer`` instead of its buttons (empty: remove them)."""

    prompt: int
    answer: str


@dataclass(frozen=True, slots=True)
class AnswerSaved:
    """Record one answer. ``value`` ``None`` means the person skipped the question."""

    flow_id: str
    step_id: str
    name: str
    ask: AskType
    value: AnswerValue
    share: ShareLevel
    text: str | None = None


@dataclass(frozen=True, slots=True)
class SharingChanged:
    """Every answer of this run in ``flow_id`` now has sharing level ``share``."""

    flow_id: str
    share: ShareLevel


@dataclass(frozen=True, slots=True)
class InvalidAnswer:
    """An answer could not be used; a re-prompt (or way out) follows."""

    step_id: str
    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class Nudged:
    """The one gentle nudge for this run was sent."""

    step_id: str


@dataclass(frozen=True, slots=True)
class FlowEnded:
    """The run is over; answers saved so far are kept whatever the status."""

    flow_id: str
    status: Literal["completed", "stopped", "expired"]
    reason: str = ""
    summary: str | None = None
    answers: dict[str, AnswerValue] = field(default_factory=dict)


Event = (
    SendMessage
    | UpdateButtons
    | CloseQuestion
    | AnswerSaved
    | SharingChanged
    | InvalidAnswer
    | Nudged
    | FlowEnded
)


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready dict of an event with its type name."""
    return {"type": type(event).__name__, **asdict(event)}
