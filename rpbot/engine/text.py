"""Localised text and safe variable filling.

A text in a dialogue file is a plain string or a map of language code to string (``en``
required). Variables in braces are looked up in a mapping, never evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated

from pydantic import AfterValidator, Field

DEFAULT_LANGUAGE = "en"

_VARIABLE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)?)\}")


def _check_text_map(value: str | dict[str, str]) -> str | dict[str, str]:
    if isinstance(value, dict):
        if DEFAULT_LANGUAGE not in value:
            raise ValueError(
                f"a text map needs an '{DEFAULT_LANGUAGE}' entry; add {DEFAULT_LANGUAGE}: \"...\""
            )
        for lang, text in value.items():
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", lang):
                raise ValueError(f"'{lang}' is not a language code; use codes like en, cy, pl")
            if not text.strip():
                raise ValueError(f"the '{lang}' text is empty; write the text or remove the entry")
    elif not value.strip():
        raise ValueError("the text is empty; write the text or remove the key")
    return value


Text = Annotated[
    str | dict[str, str],
    AfterValidator(_check_text_map),
    Field(description="Plain text, or a map of language code to text with 'en' required."),
]


def pick_language(text: str | Mapping[str, str], language: str) -> str:
    """Return the text for ``language``, falling back to English."""
    if isinstance(text, str):
        return text
    return text.get(language) or text[DEFAULT_LANGUAGE]


def variables_in(text: str | Mapping[str, str]) -> Iterator[str]:
    """Yield every variable name used in any language of ``text``."""
    versions = [text] if isinstance(text, str) else list(text.values())
    for version in versions:
        for match in _VARIABLE.finditer(version):
            if match.group(1):
                yield match.group(1)


def fill(template: str, lookup: Callable[[str], str]) -> str:
    """Replace ``{name}`` with ``lookup(name)``; ``{{`` and ``}}`` give literal braces."""

    def replace(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole in ("{{", "}}"):
            return whole[0]
        return lookup(match.group(1))

    return _VARIABLE.sub(replace, template)
