"""Golden transcripts: each scenario's inputs replayed, the bot's turns compared with a file.

The session is serialized to JSON and loaded back between every step (the simulator does it).
Run ``uv run pytest tests/test_golden.py --update-golden`` to rewrite the expected files after
changing a dialogue, then read the diff.
"""

from __future__ import annotations

import pytest

from rpbot.dialogues import default_library
from tests.golden_runner import Scenario, load_scenarios, transcript

SCENARIOS = load_scenarios()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.flow}__{s.name}")
def test_transcript_matches_golden(scenario: Scenario, update_golden: bool) -> None:
    actual = transcript(default_library(), scenario)
    path = scenario.expected_path
    if update_golden:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}; run pytest --update-golden to create it"
    assert actual == path.read_text(encoding="utf-8"), (
        f"transcript differs from {path}; if the change is intended, run "
        "uv run pytest tests/test_golden.py --update-golden and review the diff"
    )


def test_every_flow_has_a_golden_scenario() -> None:
    covered = {s.flow for s in SCENARIOS}
    missing = sorted(set(default_library()) - covered)
    assert not missing, f"flows without a golden scenario in tests/golden/scenarios: {missing}"


def test_every_scenario_names_a_real_flow_once() -> None:
    names = [(s.flow, s.name) for s in SCENARIOS]
    assert len(names) == len(set(names)), "two scenarios share a flow and name"
    unknown = sorted({s.flow for s in SCENARIOS} - set(default_library()))
    assert not unknown, f"scenarios for flows that do not exist: {unknown}"


def test_no_stale_golden_files() -> None:
    from tests.golden_runner import EXPECTED_DIR

    expected = {s.expected_path.name for s in SCENARIOS}
    stale = sorted(p.name for p in EXPECTED_DIR.glob("*.txt") if p.name not in expected)
    assert not stale, f"golden files with no scenario (delete them): {stale}"
