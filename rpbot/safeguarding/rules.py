"""Loading safeguarding rules: read a YAML rules file, validate it, compile it.

A rules file (``dialogues/safeguarding/<language>.yaml``) holds, per category, rules made of
*phrases* (a small, readable syntax, see :mod:`rpbot.safeguarding.compiler`) and *patterns*
(Python regular expressions), plus exclusions for figures of speech and the words that negate.
Everything is matched against normalised text (see :mod:`rpbot.safeguarding.normalise`): lower
case, no apostrophes, runs of three or more of one letter squeezed to one.

The file is validated with pydantic (unknown keys are errors), and every problem is reported as
:class:`RulesError` naming the file and the rule, for example
``dialogues/safeguarding/en.yaml: self_harm: sh.suicide: pattern '(kms' does not compile: ...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rpbot.safeguarding.compiler import compile_rules
from rpbot.safeguarding.model import Rules, RulesError, RulesFile, read_source

__all__ = ["Rules", "RulesError", "load_rules", "parse_rules"]


def load_rules(path: Path | str) -> Rules:
    """Read, validate and compile a rules file; raise :class:`RulesError` if it is unusable."""
    text, source = read_source(path, RulesError)
    return parse_rules(text, source=source)


def parse_rules(text: str, source: str = "<rules>") -> Rules:
    """Validate and compile the YAML text of a rules file; ``source`` names it in errors."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise RulesError(f"{source}: not valid YAML: {error}") from error
    try:
        spec = RulesFile.model_validate(data)
    except ValidationError as error:
        raise RulesError(f"{source}: {_describe(error, data)}") from error
    return compile_rules(spec, source)


def _describe(error: ValidationError, data: Any) -> str:
    """Pydantic's errors as ``where: what``, joined by ``; `` (a rule named by its id too)."""
    problems = []
    for problem in error.errors():
        where = _where(problem["loc"], data) or "file"
        problems.append(f"{where}: {problem['msg']}")
    return "; ".join(problems)


def _where(location: tuple[int | str, ...], data: Any) -> str:
    """``categories.test.rules.0.phrase``, with ``(test.rule)`` after a rule that has an id."""
    parts: list[str] = []
    for key in location:
        data = _step(data, key)
        rule_id = data.get("id") if isinstance(data, dict) and isinstance(key, int) else None
        parts.append(f"{key} ({rule_id})" if isinstance(rule_id, str) else str(key))
    return ".".join(parts)


def _step(data: Any, key: int | str) -> Any:
    """``data[key]`` if it is there, else None."""
    if isinstance(data, dict):
        return data.get(key)
    if isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
        return data[key]
    return None


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
