"""The programme file: the standard plan loads, matches the joining defaults, and mistakes
get clear messages (file, place, what is wrong)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rpbot.dialogues import default_library
from rpbot.services.plans import ProgrammeError, load_programme, parse_programme
from rpbot.services.reminders import DEFAULT_SCHEDULES

GOOD = """
id: short
title: Short
weeks: [recognising_challenges, parenting_styles]
flows:
  parent:
    day_in_the_life: {reminder: {days: daily, time: "19:30"}}
  child:
    three_houses: {enabled: false}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ProgrammeError) as caught:
        parse_programme(text, "p.yaml", default_library())
    return caught.value.problems


def test_the_standard_plan_loads_and_matches_the_defaults_on_joining() -> None:
    programme = load_programme(library=default_library())
    assert programme.weeks[:2] == ["recognising_challenges", "parenting_styles"]
    for role, defaults in DEFAULT_SCHEDULES.items():
        reminded = {
            flow: (plan.reminder.days, plan.reminder.time)
            for flow, plan in programme.flows[role].items()  # type: ignore[index]
            if plan.reminder is not None
        }
        expected = {flow: (days or "daily", at) for flow, days, at in defaults}
        assert reminded == expected


def test_a_good_file_parses() -> None:
    programme = parse_programme(GOOD, "p.yaml", default_library())
    assert not programme.flows["child"]["three_houses"].enabled


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("title: Short", "title: Short\ncolour: blue"), "p.yaml: colour: unknown key"),
        (('time: "19:30"', 'time: "25:00"'), "flows.parent.day_in_the_life.reminder.time: '25:00'"),
        (("days: daily", "days: funday"), "reminder.days: 'funday' is not a day"),
        (("day_in_the_life:", "diary:"), "p.yaml: flows.parent.diary: no flow 'diary'"),
        (("three_houses:", "day_in_the_life:"), "this flow is for parents, not childs"),
        (("parenting_styles]", "recognising_challenges]"), "weeks: a module comes twice"),
        (("parenting_styles]", "three_houses]"), "weeks.1: 'three_houses' is not a parent's"),
        (("weeks: [recognising_challenges, parenting_styles]", "weeks: []"), "p.yaml: weeks:"),
        (("  child:", "  teen:"), "p.yaml: flows.teen"),
        (("{enabled: false}", "{enabled: sometimes}"), "three_houses.enabled"),
    ],
)
def test_mistakes_say_where_and_what(change: tuple[str, str], expected: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    found = problems(text)
    assert any(expected in line for line in found), found


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    assert "not valid YAML" in problems("weeks: [")[0]
    assert "expected a mapping" in problems("- a\n- b\n")[0]
    with pytest.raises(ProgrammeError, match="cannot be read"):
        load_programme(tmp_path / "missing.yaml")
