"""Broken dialogue files are rejected with exact, located, fixable messages.

Each file in ``tests/fixtures/broken_dialogues/`` breaks one thing and says what the problem
message must contain in ``# expect: ...`` header lines (``# flow: -`` marks a file whose flow
id cannot be known, e.g. because its YAML does not parse). Folders hold cases that need
several files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from rpbot.dialogues import DEFAULT_DIR, load_library
from rpbot.engine import DialogueError, Problem, build_library

FIXTURES = Path(__file__).parent / "fixtures" / "broken_dialogues"
FACTS_TEXT = (DEFAULT_DIR / "facts.yaml").read_text(encoding="utf-8")

#: Traces of the parser's or pydantic's inner workings that must never reach an author.
INTERNALS = (
    "Input should be a valid",
    ".Option",
    ".compare",
    "[key]",
    "constrained-str",
    "list[Rule]",
    "<unicode string>",
)

#: Fixtures whose expected problem is reported, but alongside noise (name: reason).
NOISY: dict[str, str] = {}


@dataclass(frozen=True)
class Case:
    """One broken fixture file and what its header says must be reported."""

    path: Path
    expects: tuple[str, ...]
    flow: str | None

    @property
    def name(self) -> str:
        return self.path.name

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


def read_case(path: Path) -> Case:
    """Read the ``# expect:`` / ``# flow:`` header of a fixture."""
    text = path.read_text(encoding="utf-8")
    expects: list[str] = []
    flow_known = True
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# expect:"):
            expects.append(line.removeprefix("# expect:").strip())
        elif line.strip() == "# flow: -":
            flow_known = False
    flow = None
    if flow_known:
        data = yaml.safe_load(text)
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            flow = data["id"]
    return Case(path, tuple(expects), flow)


def all_fixture_files() -> list[Path]:
    return sorted(FIXTURES.rglob("*.yaml"))


CASES = [read_case(p) for p in sorted(FIXTURES.glob("*.yaml"))]
CASE_IDS = [c.path.stem for c in CASES]


def problems_of(sources: dict[str, str], facts_text: str | None = FACTS_TEXT) -> list[Problem]:
    """Build a library that must fail; return its problems."""
    with pytest.raises(DialogueError) as caught:
        build_library(sources, facts_text=facts_text)
    problems = caught.value.problems
    assert problems, "DialogueError without problems"
    assert str(caught.value) == "\n".join(str(p) for p in problems)
    return problems


def assert_expected(expects: Sequence[str], problems: Sequence[Problem]) -> None:
    shown = "\n".join(str(p) for p in problems)
    for expect in expects:
        assert any(expect in str(p) for p in problems), f"no problem mentions {expect!r}:\n{shown}"


def assert_distinct_matches(expects: Sequence[str], problems: Sequence[Problem]) -> None:
    """Each expectation is met by a problem of its own (not all by the same one)."""
    used: set[int] = set()
    shown = "\n".join(str(p) for p in problems)
    for expect in expects:
        index = next(
            (i for i, p in enumerate(problems) if i not in used and expect in str(p)), None
        )
        assert index is not None, f"no separate problem mentions {expect!r}:\n{shown}"
        used.add(index)


def case_param(case: Case) -> object:
    reason = NOISY.get(case.path.stem)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, id=case.path.stem, marks=marks)


# --- the fixtures themselves --------------------------------------------------------------


def test_there_are_fixtures_for_every_listed_case() -> None:
    wanted = {
        "unknown_key_top_level",
        "unknown_key_in_step",
        "unknown_key_in_option",
        "unknown_key_in_condition",
        "missing_start",
        "missing_steps",
        "dangling_next",
        "dangling_goto_in_rules",
        "dangling_goto_in_branch",
        "unreachable_step",
        "duplicate_step_id",
        "duplicate_answer_name",
        "duplicate_option_value",
        "unknown_answer_in_condition",
        "unknown_answer_in_text",
        "unknown_variable_in_text",
        "unknown_law_field",
        "unknown_signpost",
        "option_value_too_long",
        "option_value_starts_with_slash",
        "call_self",
        "call_missing_flow",
        "rule_without_when_not_last",
        "last_rule_with_when",
        "condition_without_operator",
        "condition_with_two_operators",
        "condition_value_not_an_option",
        "lt_on_text_answer",
        "yes_no_equals_string",
        "context_impossible_nation",
        "step_with_two_kinds",
        "step_with_no_kind",
        "bad_duration",
        "bad_flow_id",
        "text_map_without_en",
        "empty_text",
        "choice_with_one_option",
        "scale_with_twenty_points",
        "options_on_text_question",
        "min_not_below_max",
        "invalid_yaml_syntax",
        "not_a_mapping",
        "several_problems",
    }
    assert wanted <= set(CASE_IDS), sorted(wanted - set(CASE_IDS))
    assert (FIXTURES / "duplicate_ids").is_dir()
    assert (FIXTURES / "call_cycle").is_dir()


@pytest.mark.parametrize("path", all_fixture_files(), ids=lambda p: p.stem)
def test_fixture_starts_with_an_expect_line(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: ...'"
    assert read_case(path).expects


def test_fixture_flow_ids_are_unique() -> None:
    # So that checking the whole folder at once reports each file's own problem.
    ids = [c.flow for c in CASES if c.flow is not None]
    assert len(ids) == len(set(ids))


def test_a_minimal_flow_is_valid() -> None:
    # The control for the fixtures: the shape they break is otherwise fine.
    text = (
        "id: fine\nversion: 1\ntitle: Fine\naudience: parent\nstart: hello\n"
        "steps:\n  hello:\n    say: 'Hi {first_name}'\n    next: done\n  done:\n    end: true\n"
    )
    library = build_library({"fine.yaml": text}, facts_text=FACTS_TEXT)
    assert list(library) == ["fine"]
    assert library.sources == {"fine": "fine.yaml"}


# --- one fixture at a time ----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_broken_fixture_is_rejected_with_its_message(case: Case) -> None:
    problems = problems_of({case.name: case.text()})
    assert_expected(case.expects, problems)
    for problem in problems:
        assert problem.file == case.name
        assert str(problem).startswith(f"{case.name}: ")
        if case.flow is not None:
            assert problem.flow == case.flow
            assert str(problem).startswith(f"{case.name}: {case.flow}: ")
        if problem.step:
            assert f": {problem.step}: " in str(problem)
        assert str(problem).endswith(problem.message)


@pytest.mark.parametrize("case", [case_param(c) for c in CASES])
def test_broken_fixture_reports_nothing_but_its_problems(case: Case) -> None:
    problems = problems_of({case.name: case.text()})
    shown = "\n".join(str(p) for p in problems)
    unexpected = [p for p in problems if not any(e in str(p) for e in case.expects)]
    assert not unexpected, f"problems beyond the expected ones:\n{shown}"
    for problem in problems:
        leaked = [marker for marker in INTERNALS if marker in str(problem)]
        assert not leaked, f"internal detail {leaked} in: {problem}"


def test_dangling_next_message_exactly() -> None:
    problems = problems_of({"dangling_next.yaml": (FIXTURES / "dangling_next.yaml").read_text()})
    message = "goes to 'nowhere', which is not a step; fix the id or add it"
    assert problems == [Problem("dangling_next.yaml", "dangling_next", "hello", message)]
    assert str(problems[0]) == (
        "dangling_next.yaml: dangling_next: hello: "
        "goes to 'nowhere', which is not a step; fix the id or add it"
    )


def test_problem_str_skips_empty_parts() -> None:
    assert str(Problem("a.yaml", "", "", "bad")) == "a.yaml: bad"
    assert str(Problem("a.yaml", "flow", "", "bad")) == "a.yaml: flow: bad"
    assert str(Problem("a.yaml", "flow", "step", "bad")) == "a.yaml: flow: step: bad"


def test_problems_name_the_step_they_are_in() -> None:
    steps = {
        "dangling_goto_in_branch": "route",
        "dangling_goto_in_rules": "mood",
        "unreachable_step": "orphan",
        "duplicate_answer_name": "evening",
        "unknown_answer_in_text": "done",
        "call_self": "again",
        "step_with_two_kinds": "hello",
        "scale_with_twenty_points": "score",
    }
    for stem, step in steps.items():
        case = read_case(FIXTURES / f"{stem}.yaml")
        problems = problems_of({case.name: case.text()})
        assert [p.step for p in problems] == [step], stem


def test_flow_level_problems_name_no_step() -> None:
    for stem in ("missing_start", "missing_steps", "unknown_key_top_level", "bad_duration"):
        case = read_case(FIXTURES / f"{stem}.yaml")
        problems = problems_of({case.name: case.text()})
        assert [p.step for p in problems] == [""], stem


def test_several_problems_in_one_file_are_all_reported() -> None:
    case = read_case(FIXTURES / "several_problems.yaml")
    assert len(case.expects) == 5
    problems = problems_of({case.name: case.text()})
    assert len(problems) == len(case.expects)
    assert_distinct_matches(case.expects, problems)
    assert {p.step for p in problems} == {"mood", "hello", "orphan", "done"}


def test_problems_in_several_files_are_all_reported() -> None:
    stems = ("invalid_yaml_syntax", "dangling_next", "unreachable_step", "missing_steps")
    cases = [read_case(FIXTURES / f"{stem}.yaml") for stem in stems]
    problems = problems_of({c.name: c.text() for c in cases})
    for case in cases:
        mine = [p for p in problems if p.file == case.name]
        assert mine, f"nothing reported for {case.name}"
        assert_expected(case.expects, mine)


def test_a_valid_flow_beside_a_broken_one_is_not_blamed() -> None:
    fine = (
        "id: fine\nversion: 1\ntitle: Fine\naudience: parent\nstart: hello\n"
        "steps:\n  hello:\n    say: Hi\n"
    )
    broken = read_case(FIXTURES / "dangling_next.yaml")
    problems = problems_of({"fine.yaml": fine, broken.name: broken.text()})
    assert {p.file for p in problems} == {broken.name}


def test_a_call_to_a_flow_in_another_file_is_fine() -> None:
    caller = (
        "id: caller\nversion: 1\ntitle: Caller\naudience: parent\nstart: sub\n"
        "steps:\n  sub:\n    call: callee\n    next: done\n  done:\n    end: true\n"
    )
    callee = (
        "id: callee\nversion: 1\ntitle: Callee\naudience: parent\nstart: hello\n"
        "steps:\n  hello:\n    say: Hi\n"
    )
    library = build_library({"caller.yaml": caller, "callee.yaml": callee}, facts_text=FACTS_TEXT)
    assert set(library) == {"caller", "callee"}


# --- cases that need several files --------------------------------------------------------


def folder_cases(folder: Path) -> list[Case]:
    return [read_case(p) for p in sorted(folder.glob("*.yaml"))]


def test_duplicate_flow_id_across_two_files() -> None:
    folder = FIXTURES / "duplicate_ids"
    cases = folder_cases(folder)
    with pytest.raises(DialogueError) as caught:
        load_library([folder])
    problems = caught.value.problems
    assert len(problems) == 1
    for case in cases:
        assert_expected(case.expects, problems)
    [problem] = problems
    assert problem.flow == "same_flow"
    assert Path(problem.file).name == "second.yaml"
    assert "first.yaml" in problem.message
    assert str(problem).startswith(f"{problem.file}: same_flow: duplicate flow id")


def test_duplicate_flow_id_message_exactly() -> None:
    folder = FIXTURES / "duplicate_ids"
    sources = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}
    problems = problems_of(sources)
    assert [str(p) for p in problems] == [
        "second.yaml: same_flow: duplicate flow id (also in first.yaml); give each flow its own id"
    ]


def test_sub_flow_cycle_across_two_files() -> None:
    folder = FIXTURES / "call_cycle"
    with pytest.raises(DialogueError) as caught:
        load_library([folder])
    problems = caught.value.problems
    assert len(problems) == 1, "a cycle is reported once, not once per flow in it"
    for case in folder_cases(folder):
        assert_expected(case.expects, problems)
    [problem] = problems
    assert problem.step == "sub"
    assert problem.flow in {"ping", "pong"}
    assert Path(problem.file).name == f"{problem.flow}.yaml"
    assert "ping -> pong -> ping" in problem.message or "pong -> ping -> pong" in problem.message


def test_load_library_reports_the_file_path() -> None:
    path = FIXTURES / "dangling_next.yaml"
    with pytest.raises(DialogueError) as caught:
        load_library([path])
    [problem] = caught.value.problems
    assert Path(problem.file).resolve() == path.resolve()
    assert str(problem).startswith(f"{problem.file}: dangling_next: hello: goes to 'nowhere'")


# --- facts.yaml ---------------------------------------------------------------------------


def minimal_flow() -> dict[str, str]:
    text = (
        "id: hello\nversion: 1\ntitle: Hello\naudience: parent\nstart: hello\n"
        "steps:\n  hello:\n    say: 'In {law.name}, call {signpost.nspcc}'\n"
    )
    return {"hello.yaml": text}


def facts_without(nation: str) -> str:
    data = yaml.safe_load(FACTS_TEXT)
    del data["law"][nation]
    return yaml.safe_dump(data, allow_unicode=True)


def test_the_real_facts_are_valid() -> None:
    library = build_library(minimal_flow(), facts_text=FACTS_TEXT)
    assert library.facts is not None
    assert set(library.facts.law) == {"england", "wales", "scotland", "northern_ireland"}


def test_facts_missing_a_nation() -> None:
    problems = problems_of(minimal_flow(), facts_text=facts_without("wales"))
    assert [str(p) for p in problems] == [
        "facts.yaml: law is missing wales; add an entry for each nation"
    ]


def test_facts_missing_two_nations_names_both() -> None:
    data = yaml.safe_load(FACTS_TEXT)
    del data["law"]["wales"], data["law"]["scotland"]
    problems = problems_of(minimal_flow(), facts_text=yaml.safe_dump(data))
    [problem] = problems
    assert problem.file == "facts.yaml"
    assert "missing wales, scotland" in problem.message or "scotland, wales" in problem.message


def test_facts_not_found() -> None:
    problems = problems_of(minimal_flow(), facts_text=None)
    assert [str(p) for p in problems] == [
        "facts.yaml: facts.yaml was not found; add it next to the flows"
    ]


def test_facts_among_the_sources_are_used() -> None:
    sources = {**minimal_flow(), "dialogues/facts.yaml": FACTS_TEXT}
    library = build_library(sources, facts_text=None)
    assert list(library) == ["hello"]
    assert library.facts is not None


def test_facts_that_are_not_yaml() -> None:
    problems = problems_of(minimal_flow(), facts_text="law: [england\n")
    [problem] = problems
    assert str(problem).startswith("facts.yaml: not valid YAML at line ")


def test_facts_with_an_unknown_key_in_a_nation() -> None:
    data = yaml.safe_load(FACTS_TEXT)
    data["law"]["wales"]["colour"] = "red"
    problems = problems_of(minimal_flow(), facts_text=yaml.safe_dump(data, allow_unicode=True))
    [problem] = problems
    assert problem.file == "facts.yaml"
    assert "unknown key 'colour'" in problem.message
    assert "law.wales" in str(problem)


def test_facts_with_a_bad_signpost_number() -> None:
    data = yaml.safe_load(FACTS_TEXT)
    data["signposts"]["emergency"]["number"] = "nine"
    problems = problems_of(minimal_flow(), facts_text=yaml.safe_dump(data, allow_unicode=True))
    [problem] = problems
    text = str(problem)
    assert text.count("signposts.emergency") == 1, text
    assert "not a phone number" in text
    assert "not a valid id" not in text
    assert "'nine'" in text
