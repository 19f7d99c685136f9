"""The ``rpbot`` command line: dialogue checks, graphs, listing and the terminal chat."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from rpbot.cli import app
from rpbot.dialogues import DEFAULT_DIR
from rpbot.engine.schema import dialogue_schema_text
from rpbot.engine.validation import FACTS_FILE

BROKEN = Path(__file__).parent / "fixtures" / "broken_dialogues"
FLOW_FILES = sorted(p for p in DEFAULT_DIR.glob("*.yaml") if p.name != FACTS_FILE)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def expects_of(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        line.removeprefix("# expect:").strip() for line in lines if line.startswith("# expect:")
    ]


def shipped_flow_ids() -> list[str]:
    return sorted(load_yaml(p)["id"] for p in FLOW_FILES)


# --- dialogues check ----------------------------------------------------------------------


def test_check_passes_on_the_shipped_dialogues(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dialogues", "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{len(FLOW_FILES)} flow(s) OK.\n"
    assert result.stderr == ""


def test_check_passes_on_the_shipped_folder_given_explicitly(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dialogues", "check", str(DEFAULT_DIR)])
    assert result.exit_code == 0, result.output
    assert f"{len(FLOW_FILES)} flow(s) OK." in result.stdout


def test_check_fails_on_a_broken_file(runner: CliRunner) -> None:
    path = BROKEN / "dangling_next.yaml"
    result = runner.invoke(app, ["dialogues", "check", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].endswith(
        "dangling_next.yaml: dangling_next: hello: "
        "goes to 'nowhere', which is not a step; fix the id or add it"
    )
    assert lines[1] == "1 problem(s) found."


def test_check_lists_every_problem_of_a_file(runner: CliRunner) -> None:
    path = BROKEN / "several_problems.yaml"
    result = runner.invoke(app, ["dialogues", "check", str(path)])
    assert result.exit_code == 1
    for expect in expects_of(path):
        assert expect in result.stderr
    assert result.stderr.splitlines()[-1] == f"{len(expects_of(path))} problem(s) found."


def test_check_on_the_broken_folder_reports_every_file(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dialogues", "check", str(BROKEN)])
    assert result.exit_code == 1
    for path in sorted(BROKEN.glob("*.yaml")):
        for expect in expects_of(path):
            lines = [line for line in result.stderr.splitlines() if path.name in line]
            assert any(expect in line for line in lines), f"{path.name}: {expect!r} not shown"
    assert re.search(r"^\d+ problem\(s\) found\.$", result.stderr, re.MULTILINE)


def test_check_several_paths(runner: CliRunner) -> None:
    paths = [BROKEN / "dangling_next.yaml", BROKEN / "unreachable_step.yaml"]
    result = runner.invoke(app, ["dialogues", "check", *map(str, paths)])
    assert result.exit_code == 1
    assert "dangling_next.yaml: dangling_next: hello: goes to 'nowhere'" in result.stderr
    assert "unreachable_step.yaml: unreachable_step: orphan: cannot be reached" in result.stderr
    assert "2 problem(s) found." in result.stderr


def test_check_duplicate_ids_folder(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dialogues", "check", str(BROKEN / "duplicate_ids")])
    assert result.exit_code == 1
    assert "second.yaml: same_flow: duplicate flow id (also in " in result.stderr


def test_check_a_missing_path(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dialogues", "check", "nonexistent"])
    assert result.exit_code == 1
    assert result.stderr == "nonexistent: no such file or folder; give a dialogue file or folder\n"


# --- dialogues graph / list / schema ------------------------------------------------------


def test_graph_draws_every_step(runner: CliRunner) -> None:
    flow = load_yaml(DEFAULT_DIR / "day_in_the_life.yaml")
    result = runner.invoke(app, ["dialogues", "graph", "day_in_the_life"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "flowchart TD"
    start = rf"^  flow_start\(\(.*\)\) --> s_{flow['start']}$"
    assert re.search(start, result.stdout, re.MULTILINE)
    for step_id in flow["steps"]:
        node = re.compile(rf"^  s_{re.escape(step_id)}[\[\{{\(]", re.MULTILINE)
        assert node.search(result.stdout), f"no node for step '{step_id}'"
    nodes = [line for line in lines[2:] if re.match(r"^  s_[a-z][a-z0-9_]*[\[\{\(]", line)]
    assert len(nodes) == len(flow["steps"]), "one node per step"


def test_graph_of_an_unknown_flow(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dialogues", "graph", "no_such_flow"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "No flow 'no_such_flow'" in result.stderr
    assert "day_in_the_life" in result.stderr


def test_list_shows_every_flow(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dialogues", "list"])
    assert result.exit_code == 0, result.output
    rows = [line.split()[:2] for line in result.stdout.splitlines()]
    assert sorted(flow_id for _, flow_id in rows) == shipped_flow_ids()
    for path in FLOW_FILES:
        data = load_yaml(path)
        assert [data["audience"], data["id"]] in rows


def test_schema_prints_the_schema(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dialogues", "schema"])
    assert result.exit_code == 0, result.output
    assert result.stdout == dialogue_schema_text()


# --- chat ---------------------------------------------------------------------------------

#: feelings_checkin as a child: feeling 4 (button 4 of the 1-5 scale), a good thing, skip worry.
CHECKIN_INPUT = "4\nwe went swimming\n/skip\n"
CHECKIN_ANSWERS = {"feeling": 4, "good_thing": "we went swimming", "worry": None}


def test_chat_runs_a_flow_to_the_end(runner: CliRunner) -> None:
    args = ["chat", "feelings_checkin", "--as", "child", "--name", "Ali"]
    result = runner.invoke(app, args, input=CHECKIN_INPUT)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Ali" in out
    assert "you: we went swimming" in out
    assert "(flow completed)" in out
    assert "Saved answers:" in out
    assert 'feelings_checkin.good_thing: "we went swimming"' in out
    assert "feelings_checkin.feeling: 4" in out


def test_chat_json_prints_the_saved_answers(runner: CliRunner) -> None:
    args = ["chat", "feelings_checkin", "--as", "child", "--json"]
    result = runner.invoke(app, args, input=CHECKIN_INPUT)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"feelings_checkin": CHECKIN_ANSWERS}
    # The conversation goes to stderr so stdout stays parseable.
    assert "(flow completed)" in result.stderr
    assert "bot:" not in result.stdout


def test_chat_json_keeps_unicode_readable(runner: CliRunner) -> None:
    args = ["chat", "feelings_checkin", "--as", "child", "--json"]
    result = runner.invoke(app, args, input="5\nMy cat Zoë 🐈\n/skip\n")
    assert result.exit_code == 0, result.output
    assert "Zoë 🐈" in result.stdout
    assert json.loads(result.stdout)["feelings_checkin"]["good_thing"] == "My cat Zoë 🐈"


def test_chat_exits_1_when_input_ends_first(runner: CliRunner) -> None:
    result = runner.invoke(app, ["chat", "feelings_checkin", "--as", "child"], input="4\n")
    assert result.exit_code == 1
    assert "input ended before the flow did" in result.stdout
    assert "feelings_checkin.feeling: 4" in result.stdout


def test_chat_json_still_prints_answers_when_input_ends_first(runner: CliRunner) -> None:
    args = ["chat", "feelings_checkin", "--as", "child", "--json"]
    result = runner.invoke(app, args, input="4\n")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"feelings_checkin": {"feeling": 4}}


def test_chat_with_an_invalid_role(runner: CliRunner) -> None:
    result = runner.invoke(app, ["chat", "feelings_checkin", "--as", "teacher"], input="")
    assert result.exit_code == 2
    assert "--as takes parent or child" in result.stderr
    assert "bot:" not in result.stdout


def test_chat_with_an_invalid_nation(runner: CliRunner) -> None:
    result = runner.invoke(app, ["chat", "physical_punishment_law", "--nation", "france"])
    assert result.exit_code == 2
    assert "--nation takes one of england, wales, scotland, northern_ireland" in result.stderr


def test_chat_with_an_unknown_flow(runner: CliRunner) -> None:
    result = runner.invoke(app, ["chat", "no_such_flow"], input="")
    assert result.exit_code == 1
    assert "No flow 'no_such_flow'" in result.stderr


@pytest.mark.parametrize(("nation", "other"), [("scotland", "england"), ("england", "wales")])
def test_chat_states_the_law_of_the_chosen_nation(
    runner: CliRunner, nation: str, other: str
) -> None:
    law = load_yaml(DEFAULT_DIR / "facts.yaml")["law"]
    args = ["chat", "physical_punishment_law", "--nation", nation]
    result = runner.invoke(app, args, input="/stop\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for field in ("name", "summary", "act"):
        assert law[nation][field] in out, f"{nation} {field} not shown"
    assert law[other]["summary"] not in out
    assert law[other]["act"] not in out
