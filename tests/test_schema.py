"""The committed JSON Schema of dialogue files is current, referenced, and fits the flows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from rpbot.dialogues import DEFAULT_DIR
from rpbot.engine.schema import dialogue_schema, dialogue_schema_text
from rpbot.engine.validation import FACTS_FILE

SCHEMA_PATH = DEFAULT_DIR / "schema" / "dialogue.schema.json"
SCHEMA_LINE = "# yaml-language-server: $schema=schema/dialogue.schema.json"
FLOW_FILES = sorted(p for p in DEFAULT_DIR.glob("*.yaml") if p.name != FACTS_FILE)
BROKEN = Path(__file__).parent / "fixtures" / "broken_dialogues"


def as_json(path: Path) -> Any:
    """A dialogue file as an editor's YAML server sees it: JSON data (keys become strings)."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8"))))


def test_there_are_flow_files() -> None:
    assert len(FLOW_FILES) >= 10


def test_committed_schema_is_current() -> None:
    committed = SCHEMA_PATH.read_text(encoding="utf-8")
    assert committed == dialogue_schema_text(), (
        f"{SCHEMA_PATH} is out of date; run `uv run rpbot dialogues schema --write`"
    )


def test_schema_text_is_the_schema_dict() -> None:
    schema = json.loads(dialogue_schema_text())
    assert schema == dialogue_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert {"id", "version", "title", "audience", "start", "steps"} <= set(schema["required"])


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.stem)
def test_flow_file_points_at_the_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == SCHEMA_LINE, f"{path.name}: the first line must be '{SCHEMA_LINE}'"


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.stem)
def test_flow_file_is_named_after_its_id(path: Path) -> None:
    assert as_json(path)["id"] == path.stem


@pytest.fixture(scope="module")
def validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.stem)
def test_flow_file_fits_the_json_schema(validator: Any, path: Path) -> None:
    errors = [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator.iter_errors(as_json(path))
    ]
    assert not errors, f"{path.name}:\n" + "\n".join(errors)


@pytest.mark.parametrize(
    "stem",
    [
        "unknown_key_top_level",
        "unknown_key_in_step",
        "missing_steps",
        "bad_duration",
        "bad_flow_id",
    ],
)
def test_json_schema_rejects_broken_shapes(validator: Any, stem: str) -> None:
    # The schema is as strict as the loader about shapes, so editors flag these too.
    assert not validator.is_valid(as_json(BROKEN / f"{stem}.yaml"))
