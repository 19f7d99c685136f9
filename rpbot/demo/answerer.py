"""What a demo person answers to the question in front of them.

The answerer looks only at the current question (its type, options and answer name), so it
follows whatever path a flow takes. Words come from the bank; the family's mood of the day
weighs the buttons; the 0-10 scale comes from the family's trajectory; a child's sharing
choices were decided by the planner.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from rpbot.demo.bank import Bank, Fill
from rpbot.engine.events import DONE_VALUE, SKIP_VALUE
from rpbot.engine.model import AskStep

#: ("button", value) presses a button of the question; ("text", words) types.
Reply = tuple[str, str]
SKIP: Reply = ("button", SKIP_VALUE)
SCALE_KEY = "three_questions.safety_scale"
UNCLEAR_TIMES = ("about 6", "tea time", "after school")
AGE_BANDS = ((2, "age_0_2"), (5, "age_3_5"), (11, "age_6_11"), (17, "age_12_17"))


@dataclass(frozen=True)
class Persona:
    """The person answering, as far as their answers show it."""

    mood: str
    fill: Fill
    scale: int | None = None
    share_family: bool = False
    share_worker: bool = False
    child_age: int = 0


class Answerer:
    """Chooses replies for one person during one action."""

    def __init__(self, bank: Bank, rng: random.Random, persona: Persona) -> None:
        self.bank = bank
        self.rng = rng
        self.persona = persona

    def replies(self, flow_id: str, step: AskStep) -> list[Reply]:
        """The inputs that answer ``step`` (a multi question takes several presses)."""
        key = f"{flow_id}.{step.answer_name}"
        if step.optional and self.rng.random() < self._skip_chance(key, step):
            return [SKIP]
        handlers = {
            "text": self._text,
            "choice": self._choice,
            "multi": self._multi,
            "yes_no": self._yes_no,
            "scale": self._scale,
            "time": self._time,
        }
        handler = handlers.get(step.ask)
        replies = handler(key, step) if handler is not None else []
        if not replies:
            return [SKIP] if step.optional else [("text", "Not sure")]
        return replies

    def _skip_chance(self, key: str, step: AskStep) -> float:
        if key in self.bank.skip_chance:
            return self.bank.skip_chance[key]
        if step.ask in ("text", "time", "media"):
            return self.bank.skip_default
        return 0.02

    def _text(self, key: str, step: AskStep) -> list[Reply]:
        text = self.bank.text(key, self.persona.mood, self.persona.fill, self.rng)
        return [("text", text)] if text else []

    def _time(self, key: str, step: AskStep) -> list[Reply]:
        text = self.bank.text(key, self.persona.mood, self.persona.fill, self.rng)
        if text is None:
            return []
        if self.rng.random() < 0.15:  # typed something the bot asks again about
            return [("text", self.rng.choice(UNCLEAR_TIMES)), ("text", text)]
        return [("text", text)]

    def _choice(self, key: str, step: AskStep) -> list[Reply]:
        values = [o.value for o in step.choices()]
        if key == "child_development.age_band" and self.persona.child_age:
            band = next(v for top, v in AGE_BANDS if self.persona.child_age <= top)
            if band in values:
                return [("button", band)]
        weights = self.bank.weights("choice", key, self.persona.mood, values)
        if not any(weights):
            return []
        return [("button", self.rng.choices(values, weights)[0])]

    def _multi(self, key: str, step: AskStep) -> list[Reply]:
        values = [o.value for o in step.choices()]
        weights = self.bank.weights("multi", key, self.persona.mood, values)
        pool = [(v, w) for v, w in zip(values, weights, strict=True) if w > 0]
        picked: list[str] = []
        for _ in range(min(len(pool), self.rng.choice((1, 1, 2, 2, 3)))):
            value = self.rng.choices([v for v, _ in pool], [w for _, w in pool])[0]
            picked.append(value)
            pool = [(v, w) for v, w in pool if v != value]
        if not picked:
            return []
        return [("button", value) for value in picked] + [("button", DONE_VALUE)]

    def _yes_no(self, key: str, step: AskStep) -> list[Reply]:
        if step.share_answers == "family":
            yes = self.persona.share_family
        elif step.share_answers is not None:
            yes = self.persona.share_worker
        else:
            yes = self.rng.random() < self.bank.says_yes(key)
        return [("button", "yes" if yes else "no")]

    def _scale(self, key: str, step: AskStep) -> list[Reply]:
        low, high = int(step.min or 0), int(step.max or 0)
        if key == SCALE_KEY and self.persona.scale is not None:
            value = self.persona.scale
        else:
            value = self._mood_point(low, high, inverted=key in self.bank.inverted_scales)
        value = max(low, min(high, value))
        if self.rng.random() < 0.2:  # some people type the number instead of tapping
            return [("text", str(value))]
        return [("button", str(value))]

    def _mood_point(self, low: int, high: int, *, inverted: bool) -> int:
        """A point on a scale that fits the mood (a 1-5 scale: good 4-5, hard 1-3)."""
        span = high - low
        bands = {"good": (0.7, 1.0), "mixed": (0.4, 0.8), "hard": (0.0, 0.5)}
        bottom, top = bands.get(self.persona.mood, (0.0, 1.0))
        if inverted:
            bottom, top = 1.0 - top, 1.0 - bottom
        return low + round(self.rng.uniform(bottom, top) * span)
