"""The JSON Schema of dialogue files, generated from the models so editors autocomplete."""

from __future__ import annotations

import json
from typing import Any

from rpbot.engine.model import Flow

SCHEMA_ID = "https://rpbot.invalid/schema/dialogue.schema.json"


def dialogue_schema() -> dict[str, Any]:
    """The schema as a dict."""
    schema = Flow.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "rpbot dialogue flow"
    return schema


def dialogue_schema_text() -> str:
    """The schema as the exact text committed in ``dialogues/schema/``."""
    return json.dumps(dialogue_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
