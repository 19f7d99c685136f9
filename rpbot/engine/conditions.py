"""Evaluating structured conditions and choosing the next step. Never ``eval``."""

from __future__ import annotations

from collections.abc import Mapping

from rpbot.engine.model import AllOf, AnyOf, Compare, Next, NotOf, Rule

Values = tuple[Mapping[str, object], Mapping[str, str]]


def holds(condition: Compare | AllOf | AnyOf | NotOf, values: Values) -> bool:
    """Whether ``condition`` is true for (answers, context)."""
    if isinstance(condition, AllOf):
        return all(holds(c, values) for c in condition.all)
    if isinstance(condition, AnyOf):
        return any(holds(c, values) for c in condition.any)
    if isinstance(condition, NotOf):
        return not holds(condition.not_, values)
    answers, context = values
    if condition.context is not None:
        subject: object = context.get(condition.context)
        present = subject is not None
    else:
        assert condition.answer is not None
        subject = answers.get(condition.answer)
        present = subject is not None
    if condition.answered is not None:
        return present == condition.answered
    if not present:
        return False
    if condition.equals is not None:
        return _same(subject, condition.equals)
    if condition.in_ is not None:
        items = subject if isinstance(subject, list) else [subject]
        return any(_same(item, wanted) for item in items for wanted in condition.in_)
    number = _number(subject)
    if number is None:
        return False
    for op, limit in (
        ("lt", condition.lt),
        ("lte", condition.lte),
        ("gt", condition.gt),
        ("gte", condition.gte),
    ):
        if limit is not None:
            return {
                "lt": number < limit,
                "lte": number <= limit,
                "gt": number > limit,
                "gte": number >= limit,
            }[op]
    return False  # pragma: no cover - the model guarantees one operator


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _same(value: object, wanted: object) -> bool:
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted
    a, b = _number(value), _number(wanted)
    if a is not None and b is not None:
        return a == b
    return value == wanted


def first_match(rules: list[Rule], values: Values) -> str | None:
    """The ``goto`` of the first rule whose condition holds (or that has none)."""
    for rule in rules:
        if rule.when is None or holds(rule.when, values):
            return rule.goto
    return None


def choose_next(nxt: Next | None, values: Values) -> str | None:
    """The step to go to after a step with ``next``; ``None`` ends the flow."""
    if nxt is None or isinstance(nxt, str):
        return nxt
    return first_match(nxt, values)
