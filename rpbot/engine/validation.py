"""Parsing and validating dialogue files into a :class:`Library`, with exact messages.

Every problem names the file, the flow, the step, what is wrong and how to fix it:
``dialogues/diary.yaml: day_in_the_life: morning: goes to 'schol_run', which is not a step;
fix the id or add it``. All problems are collected, not just the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from rpbot.engine.errors import DialogueError, Problem
from rpbot.engine.facts import LAW_FIELDS, NATIONS, Facts
from rpbot.engine.library import Library
from rpbot.engine.model import (
    CALLBACK_VALUE_MAX_BYTES,
    AllOf,
    AnyOf,
    AskStep,
    BranchStep,
    CallStep,
    Compare,
    EndStep,
    Flow,
    Next,
    NotOf,
    Rule,
    SayStep,
    Step,
)
from rpbot.engine.text import variables_in

#: Context variables a text may use, with what they are.
CONTEXT_VARIABLES = {
    "first_name": "the person's first name",
    "child_name": "the child's name (parent flows)",
    "family_name": "the family's name",
    "practitioner_name": "the practitioner's name",
    "nation": "the family's nation, readable",
}
CONTEXT_VALUES: dict[str, set[str]] = {
    "nation": set(NATIONS),
    "role": {"parent", "child", "practitioner"},
    "audience": {"parent", "child", "practitioner"},
}
FACTS_FILE = "facts.yaml"


# libyaml's parser when PyYAML was built with it (several times faster), else pure Python.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """A safe loader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            line = key_node.start_mark.line + 1
            raise _DuplicateKeyError(f"duplicate key '{key}' at line {line}", key)
        result[key] = loader.construct_object(value_node, deep=True)
    return result


class _DuplicateKeyError(Exception):
    def __init__(self, message: str, key: object) -> None:
        super().__init__(message)
        self.key = key


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def parse_yaml(text: str) -> Any:
    """Parse YAML text, refusing duplicate keys."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


@dataclass
class _Parsed:
    source: str
    flow: Flow


def build_library(sources: Mapping[str, str], facts_text: str | None = None) -> Library:
    """Parse and validate flows given as {file name: YAML text}; raise DialogueError on problems.

    ``facts_text`` is the text of ``facts.yaml``; when ``None`` a file named ``facts.yaml``
    among ``sources`` is used.
    """
    problems: list[Problem] = []
    flow_sources = dict(sources)
    if facts_text is None:
        facts_name = next((n for n in sources if n.endswith(FACTS_FILE)), None)
        facts_text = flow_sources.pop(facts_name) if facts_name else None
    facts = _parse_facts(facts_text, problems)

    parsed: list[_Parsed] = []
    for source, text in flow_sources.items():
        flow = _parse_flow(source, text, problems)
        if flow is not None:
            parsed.append(_Parsed(source, flow))

    flows: dict[str, Flow] = {}
    where: dict[str, str] = {}
    for item in parsed:
        if item.flow.id in flows:
            problems.append(
                Problem(
                    item.source,
                    item.flow.id,
                    "",
                    f"duplicate flow id (also in {where[item.flow.id]}); give each flow its own id",
                )
            )
            continue
        flows[item.flow.id] = item.flow
        where[item.flow.id] = item.source

    for flow_id, flow in flows.items():
        problems.extend(check_flow(flow, where[flow_id], flows, facts))
    problems.extend(_check_call_cycles(flows, where))
    if problems or facts is None:
        raise DialogueError(problems)
    return Library(flows=flows, facts=facts, sources=where)


def _parse_facts(text: str | None, problems: list[Problem]) -> Facts | None:
    if text is None:
        problems.append(
            Problem(FACTS_FILE, "", "", "facts.yaml was not found; add it next to the flows")
        )
        return None
    try:
        return Facts.model_validate(parse_yaml(text))
    except (yaml.YAMLError, _DuplicateKeyError) as exc:
        problems.append(Problem(FACTS_FILE, "", "", _yaml_message(exc)))
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(p) for p in error["loc"]]
            where = ".".join(loc[:-1])
            problems.append(Problem(FACTS_FILE, "", where, _error_message(error, loc[-1:])))
    return None


def _parse_flow(source: str, text: str, problems: list[Problem]) -> Flow | None:
    try:
        data = parse_yaml(text)
    except (yaml.YAMLError, _DuplicateKeyError) as exc:
        problems.append(Problem(source, "", "", _yaml_message(exc)))
        return None
    if not isinstance(data, dict):
        problems.append(
            Problem(source, "", "", "a dialogue file is a mapping with id, version, steps...")
        )
        return None
    flow_id = str(data.get("id", "")) if isinstance(data.get("id"), str) else ""
    try:
        return Flow.model_validate(data)
    except ValidationError as exc:
        problems.extend(Problem(source, flow_id, step, msg) for step, msg in _messages(exc))
        return None


# Errors that only say "this was not the other shape of a union"; a more specific error for
# the same place (an unknown key, a bad value) is what the author needs to read.
_SHAPE_ERRORS = {"string_type", "dict_type", "list_type", "model_type", "model_attributes_type"}


def _messages(exc: ValidationError) -> list[tuple[str, str]]:
    """One message per place, preferring specific errors over union shape mismatches."""
    located = [(error, *_locate(error)) for error in exc.errors()]
    specific = [(s, p) for error, s, p, _ in located if error["type"] not in _SHAPE_ERRORS]
    result: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error, step, path, message in located:
        if error["type"] in _SHAPE_ERRORS and any(
            s == step and (p.startswith(path) or path.startswith(p)) for s, p in specific
        ):
            continue
        if (step, path) in seen:
            continue
        seen.add((step, path))
        result.append((step, message))
    return result


def _yaml_message(exc: Exception) -> str:
    if isinstance(exc, _DuplicateKeyError):
        return f"{exc}; each step id and key may appear only once in a mapping"
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "could not be read"
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context, opened = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    started = f" ({context} started at line {opened.line + 1})" if context and opened else ""
    return f"not valid YAML{where}: {problem}{started}; check the indentation, colons and quotes"


# Parts of a pydantic error location that name a union member, not a key in the file.
_STEP_TAGS = {"say", "ask", "branch", "call", "end"}
_CONDITION_TAGS = {"compare", "all", "any", "not"}
_TYPE_PART = re.compile(
    r"^(str|int|float|bool|constrained-str|list\[.*|dict\[.*|function-.*|[A-Z][A-Za-z]*)$"
)


def _locate(error: Any) -> tuple[str, str, str]:
    """(step id, path of keys within it, message) for one pydantic error."""
    loc = [str(p) for p in error["loc"]]
    step = ""
    rest = loc
    if len(loc) >= 2 and loc[0] == "steps":
        step, rest = loc[1], loc[2:]
        if "[key]" in rest:
            return (
                step,
                "",
                f"'{step}' is not a valid step id; use lower-case letters, digits and _ "
                "starting with a letter (like morning_mood)",
            )
        if rest and rest[0] in _STEP_TAGS:
            rest = rest[1:]
    keys = _without_union_parts(rest)
    return step, ".".join(keys), _error_message(error, keys)


def _without_union_parts(parts: list[str]) -> list[str]:
    """Drop the union member names pydantic puts in locations (condition tags, types)."""
    kept: list[str] = []
    expect_tag = False
    for part in parts:
        if expect_tag and part in _CONDITION_TAGS:
            expect_tag = False
            continue
        if _TYPE_PART.match(part):
            continue
        # A condition (whose union tag comes next) sits under 'when', 'not' or in all/any lists.
        expect_tag = part in ("when", "not") or (part.isdigit() and kept[-1:] in (["all"], ["any"]))
        kept.append(part)
    return kept


def _error_message(error: Any, keys: list[str] | None = None) -> str:
    kind = error["type"]
    keys = keys if keys is not None else [str(p) for p in error["loc"]]
    field = keys[-1] if keys else ""
    where = ".".join(keys)
    if kind == "extra_forbidden":
        parent = ".".join(keys[:-1])
        place = f" in {parent}" if parent else ""
        return f"unknown key '{field}'{place}; remove it or check the spelling"
    if kind == "missing":
        return f"missing required key '{where}'; add it"
    if kind == "string_type" and isinstance(error.get("input"), bool):
        return (
            f"{where}: YAML reads a bare yes/no/on/off as true/false; put it in quotes "
            '("yes") or write {value: "yes", label: "Yes"}'
        )
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        if "0-9 " in pattern:
            return f"{where}: '{error['input']}' is not a phone number; use digits and spaces"
        if "mhd" in pattern:
            return f"{where}: '{error['input']}' is not a duration; write it like 30m, 12h or 3d"
        return (
            f"{where}: '{error['input']}' is not a valid id; use lower-case letters, digits "
            "and _ starting with a letter (like morning_mood)"
        )
    if kind == "step_kind":
        return f"{error['msg']}; e.g. 'say: ...' for a message or 'ask: choice' for a question"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


# --- cross-step checks ------------------------------------------------------------------


def check_flow(
    flow: Flow, source: str, flows: Mapping[str, Flow], facts: Facts | None
) -> list[Problem]:
    """Every check that needs more than one step: links, reachability, names, budgets."""
    problems: list[Problem] = []

    def report(step: str, message: str) -> None:
        problems.append(Problem(source, flow.id, step, message))

    if flow.start not in flow.steps:
        report("", f"start '{flow.start}' is not a step; set start to the first step's id")

    answers: dict[str, AskStep] = {}
    for step_id, ask in flow.ask_steps().items():
        name = ask.answer_name
        if name in answers:
            report(step_id, f"answer name '{name}' is saved by another step too; rename one")
        answers[name] = ask

    for step_id, step in flow.steps.items():
        for rule_list in _rule_lists(step):
            _check_rules(rule_list, flow, step_id, answers, report)
        for target in _targets(step):
            if target not in flow.steps:
                report(step_id, f"goes to '{target}', which is not a step; fix the id or add it")
        for text in _texts(step):
            _check_text_variables(text, answers, facts, lambda m, s=step_id: report(s, m))
        if isinstance(step, AskStep):
            _check_options(step, step_id, report)
        if isinstance(step, CallStep) and step.call not in flows:
            report(step_id, f"calls flow '{step.call}', which does not exist; fix the flow id")

    for text in (flow.title, flow.description, flow.nudge, flow.help):
        if text is not None:
            _check_text_variables(text, answers, facts, lambda m: report("", m))

    for step_id in _unreachable(flow):
        report(step_id, "cannot be reached from start; link to it with next/goto or remove it")
    return problems


def _rule_lists(step: Step) -> list[list[Rule]]:
    if isinstance(step, BranchStep):
        return [step.branch]
    nxt = getattr(step, "next", None)
    return [nxt] if isinstance(nxt, list) else []


def _targets(step: Step) -> list[str]:
    if isinstance(step, BranchStep):
        return [r.goto for r in step.branch]
    if isinstance(step, EndStep):
        return []
    return _next_targets(step.next)


def _next_targets(nxt: Next | None) -> list[str]:
    if nxt is None:
        return []
    if isinstance(nxt, str):
        return [nxt]
    return [r.goto for r in nxt]


def _texts(step: Step) -> list[Any]:
    if isinstance(step, SayStep):
        return [step.say]
    if isinstance(step, AskStep):
        texts: list[Any] = [step.text, step.why, step.help, step.reprompt]
        texts += [o.label for o in step.choices()]
        texts += [*(step.labels or {}).values(), step.yes_label, step.no_label]
        return [t for t in texts if t is not None]
    if isinstance(step, EndStep):
        return [t for t in (step.text, step.summary) if t is not None]
    return []


def _check_rules(
    rules: list[Rule],
    flow: Flow,
    step_id: str,
    answers: Mapping[str, AskStep],
    report: Any,
) -> None:
    for index, rule in enumerate(rules):
        last = index == len(rules) - 1
        if rule.when is None and not last:
            report(
                step_id,
                f"rule {index + 1} has no 'when', so the rules after it never run; "
                "move it to the end",
            )
        if rule.when is not None:
            for compare in _compares(rule.when):
                _check_compare(compare, step_id, answers, report)
    if rules and rules[-1].when is not None:
        report(
            step_id,
            "the last rule needs no 'when' (the way to go when nothing else "
            "matches); add '- goto: STEP' at the end",
        )


def _compares(condition: Any) -> Iterable[Compare]:
    if isinstance(condition, Compare):
        yield condition
    elif isinstance(condition, AllOf):
        for c in condition.all:
            yield from _compares(c)
    elif isinstance(condition, AnyOf):
        for c in condition.any:
            yield from _compares(c)
    elif isinstance(condition, NotOf):
        yield from _compares(condition.not_)


def _check_compare(
    cond: Compare, step_id: str, answers: Mapping[str, AskStep], report: Any
) -> None:
    if cond.context is not None:
        allowed = CONTEXT_VALUES.get(cond.context)
        tested = [cond.equals] if cond.equals is not None else list(cond.in_ or [])
        for value in tested:
            if allowed is not None and value not in allowed:
                report(
                    step_id,
                    f"condition tests {cond.context} for '{value}', which it never "
                    f"is; use one of {', '.join(sorted(allowed))}",
                )
        return
    assert cond.answer is not None
    ask = answers.get(cond.answer)
    if ask is None:
        known = ", ".join(sorted(answers)) or "none yet"
        report(
            step_id,
            f"condition uses answer '{cond.answer}', which no step saves; use one of: {known}",
        )
        return
    op = cond.operators()[0]
    if op in ("lt", "lte", "gt", "gte") and ask.ask not in ("scale", "number"):
        report(
            step_id,
            f"'{op}' compares numbers but '{cond.answer}' is a {ask.ask} answer; use equals or in",
        )
    if op in ("equals", "in"):
        compared: list[object] = [cond.equals] if op == "equals" else list(cond.in_ or [])
        for item in compared:
            problem = _value_problem(ask, item)
            if problem:
                report(step_id, f"condition on '{cond.answer}': {problem}")


def _value_problem(ask: AskStep, value: object) -> str | None:
    if ask.ask in ("choice", "multi"):
        options = [o.value for o in ask.choices()]
        if value not in options:
            return f"'{value}' is not one of its option values ({', '.join(options)})"
    elif ask.ask == "yes_no" and not isinstance(value, bool):
        return f"a yes_no answer is true or false, not '{value}'"
    elif ask.ask in ("scale", "number") and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        return f"a {ask.ask} answer is a number, not '{value}'"
    return None


def _check_text_variables(
    text: Any, answers: Mapping[str, AskStep], facts: Facts | None, report: Any
) -> None:
    for name in variables_in(text):
        head, _, tail = name.partition(".")
        if not tail and head in CONTEXT_VARIABLES:
            continue
        if head == "answers" and tail:
            if tail not in answers:
                known = ", ".join(sorted(answers)) or "none"
                report(f"text uses {{{name}}} but no step saves '{tail}'; answers here: {known}")
            continue
        if head == "law" and tail:
            if tail not in LAW_FIELDS:
                report(f"text uses {{{name}}}; law fields are {', '.join(sorted(LAW_FIELDS))}")
            continue
        if head == "signpost" and tail:
            if facts is not None and tail not in facts.signposts:
                names = ", ".join(sorted(facts.signposts))
                report(f"text uses {{{name}}}; signposts in facts.yaml are {names}")
            continue
        report(
            f"text uses unknown variable {{{name}}}; use {', '.join(CONTEXT_VARIABLES)}, "
            "answers.NAME, law.FIELD or signpost.NAME (write {{ for a literal brace)"
        )


def _check_options(step: AskStep, step_id: str, report: Any) -> None:
    seen: set[str] = set()
    for option in step.choices():
        if option.value in seen:
            report(step_id, f"option value '{option.value}' appears twice; make each unique")
        seen.add(option.value)
        size = len(option.value.encode("utf-8"))
        if size > CALLBACK_VALUE_MAX_BYTES:
            report(
                step_id,
                f"option '{_short(option.value)}' is {size} bytes, too long for Telegram's "
                f"64-byte button data (limit {CALLBACK_VALUE_MAX_BYTES}); give it a short "
                'value, e.g. {value: calm, label: "..."}',
            )
        if option.value.startswith("/"):
            report(
                step_id,
                f"option value '{option.value}' starts with '/', which is kept "
                "for commands; drop the slash",
            )


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:27] + "..."


def _unreachable(flow: Flow) -> list[str]:
    if flow.start not in flow.steps:
        return []
    seen = {flow.start}
    todo = [flow.start]
    while todo:
        step = flow.steps[todo.pop()]
        for target in _targets(step):
            if target in flow.steps and target not in seen:
                seen.add(target)
                todo.append(target)
    return [s for s in flow.steps if s not in seen]


def _check_call_cycles(flows: Mapping[str, Flow], where: Mapping[str, str]) -> list[Problem]:
    calls = {
        fid: [s.call for s in f.steps.values() if isinstance(s, CallStep) and s.call in flows]
        for fid, f in flows.items()
    }
    problems: list[Problem] = []
    reported: set[frozenset[str]] = set()

    def visit(fid: str, path: list[str]) -> None:
        for callee in calls[fid]:
            if callee in path:
                cycle = [*path[path.index(callee) :], callee]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    step = next(
                        sid
                        for sid, s in flows[fid].steps.items()
                        if isinstance(s, CallStep) and s.call == callee
                    )
                    problems.append(
                        Problem(
                            where[fid],
                            fid,
                            step,
                            f"sub-flow cycle {' -> '.join(cycle)}; a flow may not call itself, "
                            "directly or through others",
                        )
                    )
            else:
                visit(callee, [*path, callee])

    for fid in flows:
        visit(fid, [fid])
    return problems
