"""Replays a golden scenario through the simulator and renders the transcript."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from rpbot.engine import Library
from rpbot.simulator import Simulator, transcript_lines

GOLDEN_DIR = Path(__file__).parent / "golden"
SCENARIO_DIR = GOLDEN_DIR / "scenarios"
EXPECTED_DIR = GOLDEN_DIR / "expected"
#: Every scenario starts at this instant and each input comes a minute later: no real clock.
START = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Scenario:
    flow: str
    name: str
    context: Mapping[str, str]
    inputs: Sequence[str]

    @property
    def expected_path(self) -> Path:
        return EXPECTED_DIR / f"{self.flow}__{self.name}.txt"


def load_scenarios() -> list[Scenario]:
    scenarios: list[Scenario] = []
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data["scenarios"]:
            scenarios.append(
                Scenario(
                    flow=data["flow"],
                    name=item["name"],
                    context={k: str(v) for k, v in (item.get("context") or {}).items()},
                    inputs=[str(i) for i in item.get("inputs") or []],
                )
            )
    return scenarios


def transcript(library: Library, scenario: Scenario) -> str:
    """The full transcript: every bot turn, every input, saved answers and the ending."""
    now = [START]

    def clock() -> datetime:
        return now[0]

    sim = Simulator(library, scenario.flow, scenario.context, clock=clock)
    context = ", ".join(f"{k}={v}" for k, v in sorted(scenario.context.items()))
    lines = [f"# {scenario.flow} / {scenario.name} ({context})", ""]
    lines += transcript_lines(sim.begin(), verbose=True)
    for line in scenario.inputs:
        now[0] += timedelta(minutes=1)
        lines.append("")
        lines.append(f"you: {line}")
        lines += transcript_lines(sim.send(line), verbose=True)
        if sim.finished:
            break
    lines.append("")
    lines.append(f"# status: {sim.status}")
    return "\n".join(lines) + "\n"
