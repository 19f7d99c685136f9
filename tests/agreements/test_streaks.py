"""Pure parts of household agreements: streaks in kind words, proposals, button data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rpbot.dialogues import default_library
from rpbot.services.agreements import (
    plain_label,
    proposals_from_answers,
    streak,
    streak_words,
)
from rpbot.services.callbacks import agreement_data, parse_agreement
from rpbot.storage.tables import Member

WED = date(2026, 11, 25)


def days_before(*offsets: int) -> set[date]:
    return {WED - timedelta(days=n) for n in offsets}


def test_three_days_in_a_row_is_praised() -> None:
    count, before = streak("", days_before(0, 1, 2), WED)
    assert (count, before) == (3, False)
    assert streak_words(count, before) == "3 days in a row 🌟"


def test_a_missed_day_is_a_fresh_start_never_a_scolding() -> None:
    count, before = streak("", days_before(0, 2, 3, 4), WED)  # yesterday was missed
    assert (count, before) == (1, True)
    words = streak_words(count, before)
    assert words == "A fresh start today 🌱"
    for unkind in ("missed", "broke", "lost", "failed", "only", "again"):
        assert unkind not in words.casefold()


def test_the_first_time_is_celebrated() -> None:
    assert streak_words(*streak("", days_before(0), WED)) == "That's your first one ticked off 🌟"


def test_only_the_agreed_days_count_for_a_streak() -> None:
    # Mondays, Wednesdays and Fridays: Mon 23 and Wed 25 done; Tuesday is not a chore day.
    count, before = streak("mon,wed,fri", days_before(0, 2), WED)
    assert count == 2
    assert not before
    assert streak_words(count, before, "mon,wed,fri") == "2 times in a row 🌟"
    # The Friday before (20 Nov) missed, the Wednesday before that (18 Nov) done: fresh start.
    count, before = streak("mon,wed,fri", days_before(0, 2, 7), WED)
    assert (count, before) == (2, True)


def test_labels_lose_their_emoji() -> None:
    assert plain_label("🗑️ Take the bins out") == "Take the bins out"
    assert plain_label("Screens off") == "Screens off"


def test_proposals_from_a_household_agreement_run() -> None:
    mia = Member(id=7, family_id=1, role="child", display_name="Mia", created_at=None)  # type: ignore[arg-type]
    answers = {
        "sections": ["chores", "rules", "safety"],
        "chores": ["bins", "other"],
        "chores_who": "Mia: bins",
        "chores_often": "few_times_week",
        "chores_time": "17:30",
        "rules": ["speak_kindly", "home_on_time"],
        "rules_own": None,
        "rules_consequence": "Talk it through; home 30 minutes earlier next time",
        "safety": ["calm_spot"],
        "safety_adults": "Nan",
    }
    found = proposals_from_answers(default_library(), answers, [mia])
    assert [(p.kind, p.text) for p in found] == [
        ("chore", "Take the bins out"),
        ("rule", "We speak kindly"),
        ("rule", "Home by the agreed time"),
        ("safety", "A calm-down spot"),
        ("safety", "Trusted adults: Nan"),
    ]
    chore = found[0]
    assert (chore.child_member_id, chore.days, chore.time_of_day) == (7, "mon,wed,fri", "17:30")
    assert [p.consequence for p in found[1:3]] == [
        "Talk it through",
        "home 30 minutes earlier next time",
    ]


def test_agreement_button_data_round_trips_and_forgeries_are_not_parsed() -> None:
    data = agreement_data("v", 12, "a")
    assert data == "g1:v:12:a"
    assert parse_agreement(data) == ("v", [12, "a"])
    assert parse_agreement("g1:idea") == ("idea", [])


@pytest.mark.parametrize(
    "forged",
    ["g1:v:²:a", "g1:v:" + "9" * 30 + ":a", "g1:v:1:a:b:c", "g1", "g1:v:-1:a", "g1::1", "a1:v:1:a"],
)
def test_forged_agreement_data_is_refused(forged: str) -> None:
    assert parse_agreement(forged) is None
