"""Filling a flow's texts with context, earlier answers and facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rpbot.engine.facts import Facts, NationLaw
from rpbot.engine.model import Flow
from rpbot.engine.phrases import phrase
from rpbot.engine.text import fill, pick_language

#: What a text shows when the context lacks a value.
CONTEXT_DEFAULTS = {
    "first_name": "there",
    "child_name": "your child",
    "family_name": "your family",
    "practitioner_name": "your worker",
    "nation": "england",
}


@dataclass(frozen=True, slots=True)
class Renderer:
    """Renders texts of one flow for one person."""

    flow: Flow
    context: Mapping[str, str]
    answers: Mapping[str, object]
    facts: Facts | None
    language: str = "en"

    def render(self, text: str | Mapping[str, str]) -> str:
        """The text in the person's language with every variable filled."""
        return fill(pick_language(text, self.language), self.lookup)

    def lookup(self, name: str) -> str:
        """The value shown for one variable."""
        head, _, tail = name.partition(".")
        if head == "answers":
            return self.show_answer(tail)
        if head == "law":
            law = self._law()
            return str(getattr(law, tail, "")) if law is not None else ""
        if head == "signpost":
            if self.facts is None or tail not in self.facts.signposts:
                return ""
            return str(self.facts.signposts[tail])
        if head == "nation":
            law = self._law()
            return law.name if law is not None else self._context("nation")
        return self._context(head)

    def _context(self, key: str) -> str:
        return self.context.get(key) or CONTEXT_DEFAULTS.get(key, "")

    def _law(self) -> NationLaw | None:
        if self.facts is None:
            return None
        nation = self._context("nation")
        return self.facts.law.get(nation) or self.facts.law.get("england")  # type: ignore[call-overload]

    def show_answer(self, name: str) -> str:
        """An earlier answer as a person would read it (labels, not values)."""
        value = self.answers.get(name)
        audience = self.flow.audience
        if value is None:
            return phrase("skipped", audience, self.language)
        step = self.flow.answer_steps().get(name)
        if step is None:
            return str(value)
        if step.ask in ("choice", "multi"):
            labels = {o.value: self.render(o.label) for o in step.choices()}
            items = value if isinstance(value, list) else [value]
            return ", ".join(labels.get(str(v), str(v)) for v in items)
        if step.ask == "yes_no":
            label = step.yes_label if value is True else step.no_label
            if label is not None:
                return self.render(label)
            return phrase("yes" if value is True else "no", audience, self.language)
        if isinstance(value, dict):
            return f"a {value.get('kind', 'file')}"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
