"""The plan: who does what when, decided before anything touches a database."""

from __future__ import annotations

import itertools
from datetime import timedelta

from rpbot.demo.bank import load_bank
from rpbot.demo.cast import DEMO_ID_BASE, SET_STRIDE, Cast, make_cast, set_of
from rpbot.demo.plan import Action, plan_families
from rpbot.demo.timeline import LOCAL, Timeline
from rpbot.dialogues import default_library
from tests.demo.conftest import END

TIMELINE = Timeline(END, 4)


def cast(seed: int = 1, families: int = 12, set_number: int = 1) -> Cast:
    return make_cast(
        load_bank(),
        seed=seed,
        families=families,
        practitioners=min(3, families),
        set_number=set_number,
        timeline=TIMELINE,
    )


def plan(seed: int = 1, families: int = 12) -> tuple[Cast, list[Action]]:
    made = cast(seed, families)
    expiries = {flow_id: flow.expiry for flow_id, flow in default_library().flows.items()}
    return made, plan_families(made.families, TIMELINE, seed, expiries)[0]


def test_the_same_seed_makes_the_same_cast_and_plan() -> None:
    assert plan(7) == plan(7)
    assert plan(7)[1] != plan(8)[1]


def test_every_family_has_parents_and_children_and_the_story_roles_once() -> None:
    families = cast().families
    for family in families:
        assert 1 <= len(family.parents) <= 2
        assert 1 <= len(family.children) <= 2
    assert sum(f.quiet for f in families) == 1
    assert sum(f.trajectory.kind == "struggling" for f in families) == 1
    assert sum(f.blocker is not None for f in families) == 1
    assert len({f.name for f in families}) == len(families)
    assert {f.practitioner for f in families} == {0, 1, 2}


def test_a_single_family_stays_active_and_keeps_its_story_simple() -> None:
    (only,) = cast(families=1).families
    assert not only.quiet
    assert only.trajectory.kind != "struggling"
    assert only.blocker is not None  # a second parent who blocked the bot still shows


def test_demo_ids_are_reserved_per_set() -> None:
    first, second = cast(set_number=1), cast(set_number=2)
    ids = [m.telegram_id for f in first.families for m in f.members]
    assert {set_of(i) for i in ids} == {1}
    assert {set_of(m.telegram_id) for f in second.families for m in f.members} == {2}
    assert set_of(123456789) is None
    assert min(ids) > DEMO_ID_BASE + SET_STRIDE


def test_the_quiet_family_does_nothing_in_the_last_week() -> None:
    made, actions = plan()
    quiet = next(f.index for f in made.families if f.quiet)
    assert all(a.at < END - timedelta(days=7) for a in actions if a.family == quiet)
    assert any(a.family == quiet for a in actions)


def test_the_blocker_does_nothing_from_the_day_they_block() -> None:
    made, actions = plan()
    family = next(f for f in made.families if f.blocker is not None)
    assert family.block_at is not None
    mine = [a for a in actions if a.family == family.index and a.member == family.blocker]
    assert mine
    assert all(a.at < family.block_at - timedelta(hours=12) for a in mine)


def test_a_check_in_every_week_and_children_keep_their_chores_going() -> None:
    made, actions = plan()
    for family in made.families:
        first = family.parents[0]
        sundays = {
            a.at.astimezone(LOCAL).date()
            for a in actions
            if a.family == family.index and a.member == first.key and a.flow == "three_questions"
        }
        assert all(day.weekday() == 6 for day in sundays)
        assert len(sundays) == (3 if family.quiet else 4)
        for child in family.children:
            chores = [a for a in actions if a.family == family.index and a.member == child.key]
            assert len([a for a in chores if a.flow == "chore_checkin"]) >= 8


def test_one_thing_at_a_time_and_nothing_after_the_end() -> None:
    _, actions = plan()
    by_person: dict[tuple[int, int], list[Action]] = {}
    for action in actions:
        assert action.at <= END
        by_person.setdefault((action.family, action.member), []).append(action)
    for mine in by_person.values():
        for before, after in itertools.pairwise(mine):
            assert after.at - before.at >= timedelta(minutes=25)


def test_some_runs_are_left_to_expire_and_children_both_share_and_keep_private() -> None:
    _, actions = plan()
    assert any(a.abandon_after for a in actions)
    assert any(a.stop_after for a in actions)
    houses = [a for a in actions if a.flow == "three_houses"]
    assert {a.share_family for a in houses} == {True, False}
    assert {a.response for a in actions if a.via == "reminder"} == {"start", "later", "skip"}
