"""The dialogue file format: pydantic models for flows, steps and conditions.

Every model forbids unknown keys, so a typo in a dialogue file is a load error, not a silent
default. Cross-step checks (dangling ``next``, unreachable steps, unknown answer names...) live
in :mod:`rpbot.engine.validation`; these models check the shape of one object at a time.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from rpbot.engine.text import Text

Audience = Literal["parent", "child", "practitioner"]
ShareLevel = Literal["private", "practitioner", "family"]
AskType = Literal["text", "choice", "multi", "yes_no", "scale", "number", "time", "date", "media"]
MediaKind = Literal["photo", "voice", "document"]
Scalar = bool | int | float | str

SNAKE_ID = r"^[a-z][a-z0-9_]{0,47}$"
Identifier = Annotated[str, Field(pattern=SNAKE_ID)]
Duration = Annotated[
    str,
    Field(pattern=r"^[1-9][0-9]*[mhd]$", description="A duration such as 30m, 12h or 3d."),
]

#: Bytes of Telegram's 64-byte callback data left for an option value; the adapter's prefix
#: (version, run and prompt number) takes the rest.
CALLBACK_VALUE_MAX_BYTES = 40
MAX_OPTIONS = 12
MAX_SCALE_POINTS = 11

_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """Turn ``30m``, ``12h`` or ``3d`` into a timedelta."""
    match = re.fullmatch(r"([1-9][0-9]*)([mhd])", text)
    if match is None:
        raise ValueError(f"'{text}' is not a duration; write it like 30m, 12h or 3d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class Strict(BaseModel):
    """Base for every dialogue model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- conditions -------------------------------------------------------------------------


class Compare(Strict):
    """Compare one saved answer (or one context value) with a value."""

    answer: Identifier | None = Field(None, description="Name of an answer saved in this flow.")
    context: Literal["nation", "role", "language", "audience"] | None = Field(
        None, description="A context value to test instead of an answer."
    )
    equals: Scalar | None = None
    in_: list[Scalar] | None = Field(None, alias="in")
    lt: float | None = None
    lte: float | None = None
    gt: float | None = None
    gte: float | None = None
    answered: bool | None = None

    @model_validator(mode="after")
    def _one_subject_one_operator(self) -> Compare:
        if (self.answer is None) == (self.context is None):
            raise ValueError("a condition names exactly one of 'answer' or 'context'")
        ops = self.operators()
        if len(ops) != 1:
            found = ", ".join(ops) if ops else "none"
            raise ValueError(
                "a condition needs exactly one operator of equals, in, lt, lte, gt, gte, "
                f"answered (found: {found}); use 'all' to combine several"
            )
        if self.context is not None and ops[0] not in ("equals", "in"):
            raise ValueError(f"a context condition takes 'equals' or 'in', not '{ops[0]}'")
        return self

    def operators(self) -> list[str]:
        """Names of the operators that are set."""
        names = ("equals", "in_", "lt", "lte", "gt", "gte", "answered")
        return [n.rstrip("_") for n in names if getattr(self, n) is not None]


class AllOf(Strict):
    """True when every condition is true."""

    all: list[Condition] = Field(min_length=1)


class AnyOf(Strict):
    """True when at least one condition is true."""

    any: list[Condition] = Field(min_length=1)


class NotOf(Strict):
    """True when the condition is false."""

    not_: Condition = Field(alias="not")


def _condition_tag(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return key
        return "compare"
    tags: dict[type, str] = {AllOf: "all", AnyOf: "any", NotOf: "not"}
    return tags.get(type(value), "compare")


Condition = Annotated[
    Annotated[Compare, Tag("compare")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")],
    Discriminator(_condition_tag),
]


class Rule(Strict):
    """Go to a step, when the condition holds (or always, without ``when``)."""

    when: Condition | None = None
    goto: Identifier


Next = Identifier | list[Rule]


# --- steps ------------------------------------------------------------------------------


class Option(Strict):
    """One button of a choice or multi question."""

    value: str = Field(min_length=1, description="Saved when chosen; at most 40 bytes.")
    label: Text


class SayStep(Strict):
    """Send a message, then carry on."""

    say: Text
    next: Next | None = None


class AskStep(Strict):
    """Ask one question and save the answer."""

    ask: AskType
    text: Text
    why: Text | None = Field(None, description="Why we ask; shown under the question.")
    help: Text | None = None
    save: Identifier | None = Field(None, description="Answer name; defaults to the step id.")
    optional: bool = False
    reprompt: Text | None = None
    retries: int = Field(2, ge=0, le=5)
    share: ShareLevel | None = None
    options: list[str | Option] | None = None
    min_length: int | None = Field(None, ge=1)
    max_length: int | None = Field(None, ge=1, le=4096)
    min: float | None = None
    max: float | None = None
    integer: bool | None = None
    labels: dict[int, Text] | None = None
    yes_label: Text | None = None
    no_label: Text | None = None
    share_answers: ShareLevel | None = None
    accept: list[MediaKind] | None = None
    next: Next | None = None

    @model_validator(mode="after")
    def _fields_fit_the_type(self) -> AskStep:
        allowed: dict[str, set[AskType]] = {
            "options": {"choice", "multi"},
            "min_length": {"text"},
            "max_length": {"text"},
            "min": {"scale", "number"},
            "max": {"scale", "number"},
            "integer": {"number"},
            "labels": {"scale"},
            "yes_label": {"yes_no"},
            "no_label": {"yes_no"},
            "share_answers": {"yes_no"},
            "accept": {"media"},
        }
        for key, types in allowed.items():
            if getattr(self, key) is not None and self.ask not in types:
                kinds = " or ".join(sorted(types))
                raise ValueError(f"'{key}' only applies to ask: {kinds}; remove it")
        if self.ask in ("choice", "multi"):
            if not self.options or len(self.options) < 2:
                raise ValueError(f"ask: {self.ask} needs 'options' with at least 2 entries")
            if len(self.options) > MAX_OPTIONS:
                raise ValueError(
                    f"{len(self.options)} options is too many for a phone; keep it to "
                    f"{MAX_OPTIONS} or fewer"
                )
        if self.ask == "scale":
            if self.min is None or self.max is None:
                raise ValueError("ask: scale needs 'min' and 'max', e.g. min: 0, max: 10")
            if self.min != int(self.min) or self.max != int(self.max):
                raise ValueError("a scale's min and max are whole numbers")
            points = int(self.max) - int(self.min) + 1
            if points < 2 or points > MAX_SCALE_POINTS:
                raise ValueError(
                    f"a scale has 2 to {MAX_SCALE_POINTS} points; min {self.min:g} and "
                    f"max {self.max:g} give {points}"
                )
            for value in self.labels or {}:
                if not self.min <= value <= self.max:
                    raise ValueError(f"scale label {value} is outside min..max; remove it")
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"'min' ({self.min:g}) must be below 'max' ({self.max:g})")
        if (
            self.min_length is not None
            and self.max_length is not None
            and self.min_length > self.max_length
        ):
            raise ValueError("'min_length' must not be above 'max_length'")
        return self

    @property
    def answer_name(self) -> str:
        """Name the answer is saved under (set by the loader to the step id if absent)."""
        assert self.save is not None, "the loader fills 'save'"
        return self.save

    def choices(self) -> list[Option]:
        """The options as Option objects (a bare string is both value and label)."""
        return [Option(value=o, label=o) if isinstance(o, str) else o for o in self.options or []]


class BranchStep(Strict):
    """Route to another step without saying anything."""

    branch: list[Rule] = Field(min_length=1)


class CallStep(Strict):
    """Run another flow as a sub-flow, then carry on at ``next``."""

    call: Identifier
    next: Next | None = None


class EndStep(Strict):
    """End the flow as completed, with an optional closing text and summary."""

    end: Literal[True]
    text: Text | None = None
    summary: Text | None = None


_STEP_KEYS = ("say", "ask", "branch", "call", "end")


def _step_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        found = [k for k in _STEP_KEYS if k in value]
        return found[0] if len(found) == 1 else None
    tags: dict[type, str] = {SayStep: "say", AskStep: "ask", BranchStep: "branch", CallStep: "call"}
    return tags.get(type(value), "end")


Step = Annotated[
    Annotated[SayStep, Tag("say")]
    | Annotated[AskStep, Tag("ask")]
    | Annotated[BranchStep, Tag("branch")]
    | Annotated[CallStep, Tag("call")]
    | Annotated[EndStep, Tag("end")],
    Discriminator(
        _step_tag,
        custom_error_type="step_kind",
        custom_error_message="a step needs exactly one of the keys say, ask, branch, call, end",
    ),
]


class Flow(Strict):
    """One dialogue: its metadata and its steps."""

    id: Identifier
    version: int = Field(ge=1)
    title: Text
    audience: Audience
    description: Text | None = None
    share: ShareLevel = "practitioner"
    expires_after: Duration = "3d"
    nudge_after: Duration | None = None
    nudge: Text | None = None
    help: Text | None = None
    start: Identifier
    steps: dict[Identifier, Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _answer_names_default_to_step_ids(self) -> Flow:
        for step_id, step in self.steps.items():
            if isinstance(step, AskStep) and step.save is None:
                self.steps[step_id] = step.model_copy(update={"save": step_id})
        return self

    @property
    def expiry(self) -> timedelta:
        """How long an unfinished run stays open."""
        return parse_duration(self.expires_after)

    @property
    def nudge_delay(self) -> timedelta | None:
        """How long to wait for an answer before one gentle nudge."""
        return parse_duration(self.nudge_after) if self.nudge_after else None

    def ask_steps(self) -> dict[str, AskStep]:
        """Every ask step by step id."""
        return {sid: s for sid, s in self.steps.items() if isinstance(s, AskStep)}

    def answer_steps(self) -> dict[str, AskStep]:
        """Every ask step by the answer name it saves."""
        return {s.answer_name: s for s in self.ask_steps().values()}


AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()
Rule.model_rebuild()
