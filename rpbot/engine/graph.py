"""A flow as a Mermaid flowchart, for authors and practitioners reviewing a dialogue."""

from __future__ import annotations

from rpbot.engine.model import (
    AllOf,
    AnyOf,
    AskStep,
    BranchStep,
    CallStep,
    Compare,
    EndStep,
    Flow,
    NotOf,
    Rule,
    SayStep,
)
from rpbot.engine.text import pick_language


def _label(text: str, limit: int = 40) -> str:
    one_line = " ".join(text.split())
    short = one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
    return short.replace('"', "'").replace("[", "(").replace("]", ")")


def _node(step_id: str) -> str:
    """A Mermaid node id that cannot clash with keywords such as ``end`` or the start node."""
    return f"s_{step_id}"


def describe(condition: Compare | AllOf | AnyOf | NotOf) -> str:
    """A short readable form of a condition."""
    if isinstance(condition, AllOf):
        return " and ".join(describe(c) for c in condition.all)
    if isinstance(condition, AnyOf):
        return " or ".join(describe(c) for c in condition.any)
    if isinstance(condition, NotOf):
        return f"not ({describe(condition.not_)})"
    subject = condition.answer or condition.context
    op = condition.operators()[0]
    value = {"in": condition.in_, "equals": condition.equals}.get(op, getattr(condition, op))
    if op == "answered":
        return f"{subject} answered" if value else f"{subject} skipped"
    symbol = {"equals": "=", "in": "in", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}[op]
    shown = ", ".join(str(v) for v in value) if isinstance(value, list) else value
    return f"{subject} {symbol} {shown}"


def mermaid(flow: Flow) -> str:
    """The flow as ``flowchart TD`` text."""
    title = _label(pick_language(flow.title, "en"))
    lines = ["flowchart TD", f'  flow_start(("{title}")) --> {_node(flow.start)}']
    for step_id, step in flow.steps.items():
        if isinstance(step, AskStep):
            text = pick_language(step.text, "en")
            lines.append(f'  {_node(step_id)}["{step.ask}: {_label(text)}"]')
        elif isinstance(step, SayStep):
            lines.append(f'  {_node(step_id)}["{_label(pick_language(step.say, "en"))}"]')
        elif isinstance(step, BranchStep):
            lines.append(f"  {_node(step_id)}{{{{{step_id}}}}}")
        elif isinstance(step, CallStep):
            lines.append(f'  {_node(step_id)}[["call {step.call}"]]')
        elif isinstance(step, EndStep):
            lines.append(f'  {_node(step_id)}(["end"])')
        lines += _edges(step_id, step)
    return "\n".join(lines) + "\n"


def _edges(step_id: str, step: object) -> list[str]:
    if isinstance(step, BranchStep):
        rules: list[Rule] = step.branch
    else:
        nxt = getattr(step, "next", None)
        if nxt is None:
            return (
                [] if isinstance(step, EndStep) else [f'  {_node(step_id)} --> flow_end(["end"])']
            )
        if isinstance(nxt, str):
            return [f"  {_node(step_id)} --> {_node(nxt)}"]
        rules = nxt
    edges = []
    for rule in rules:
        source, target = _node(step_id), _node(rule.goto)
        if rule.when is None:
            edges.append(f"  {source} --> {target}")
        else:
            edges.append(f'  {source} -- "{_label(describe(rule.when), 30)}" --> {target}')
    return edges
