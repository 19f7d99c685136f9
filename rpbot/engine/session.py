"""The state of one person's run through a flow, serializable to JSON and back without loss.

The engine never mutates a session in place: :func:`rpbot.engine.runner.resume` returns a new
one. Callers store it (the database row is the truth) and pass it back with the next input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rpbot.engine.model import ShareLevel

AnswerValue = bool | int | float | str | list[str] | dict[str, str] | None
Status = Literal["active", "completed", "stopped", "expired"]


class Frame(BaseModel):
    """One flow on the call stack and the step it is at."""

    model_config = ConfigDict(extra="forbid")

    flow_id: str
    flow_version: int
    step: str


class Session(BaseModel):
    """Everything the engine needs to carry on a run later.

    ``stack`` holds the root flow first and the running sub-flow last. ``answers`` maps
    flow id to answer name to value (``None`` means skipped). ``history`` holds the stacks at
    each question asked so far, which is what ``back`` returns to. ``prompt`` numbers every
    question sent, so a press on an older message can be told apart from a current one.
    """

    model_config = ConfigDict(extra="forbid")

    flow_id: str
    flow_version: int
    status: Status = "active"
    stack: list[Frame]
    context: dict[str, str] = Field(default_factory=dict)
    answers: dict[str, dict[str, AnswerValue]] = Field(default_factory=dict)
    share_overrides: dict[str, ShareLevel] = Field(default_factory=dict)
    history: list[list[Frame]] = Field(default_factory=list)
    selection: list[str] = Field(default_factory=list)
    retries: int = 0
    prompt: int = 0
    nudged: bool = False
    way_out_offered: bool = False
    started_at: datetime
    updated_at: datetime
    expires_at: datetime

    @property
    def active(self) -> bool:
        """True while the run waits for an answer."""
        return self.status == "active"

    @property
    def frame(self) -> Frame:
        """The innermost running flow."""
        return self.stack[-1]

    def to_json(self) -> str:
        """Serialize for storage."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, data: str | bytes) -> Session:
        """Load a session stored with :meth:`to_json`."""
        return cls.model_validate_json(data)
